"""GenNAS (Li et al., NeurIPS 2021): architecture evaluation by regressing synthetic signals."""
