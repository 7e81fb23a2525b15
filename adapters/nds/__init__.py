"""Network Design Spaces (Radosavovic et al., 2019): cell and AnyNet spaces of the NDS release."""
