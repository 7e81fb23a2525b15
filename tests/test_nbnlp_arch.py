"""NAS-Bench-NLP recepie parsing: canonical strings, equivalences, one-line errors."""

from __future__ import annotations

import json

import pytest

from nasproxy_bench.adapters.nbnlp.arch import Recepie

RNN = {"f": {"op": "linear", "input": ["x", "h_prev_0"]}, "h_new_0": {"op": "activation_tanh", "input": ["f"]}}


def test_official_json_gives_the_canonical_string():
    r = Recepie.parse(json.dumps(RNN))
    assert str(r) == "n0=linear(h_prev_0,x);h_new_0=activation_tanh(n0)"
    assert str(Recepie.parse(str(r))) == str(r)
    assert r.hidden_tuple_size == 1


def test_renaming_and_symmetric_input_order_do_not_change_the_string():
    a = Recepie.parse("a=linear(x,h_prev_0);b=linear(h_prev_0,x);c=activation_sigm(a);d=activation_tanh(b);"
                      "h_new_0=elementwise_prod(c,d)")
    b = Recepie.parse("q=linear(h_prev_0,x);p=linear(x,h_prev_0);s=activation_tanh(p);r=activation_sigm(q);"
                      "h_new_0=elementwise_prod(s,r)")
    assert str(a) == str(b)
    assert str(a) == ("n0=linear(h_prev_0,x);n1=linear(h_prev_0,x);n2=activation_sigm(n0);n3=activation_tanh(n1);"
                      "h_new_0=elementwise_prod(n2,n3)")


def test_blend_keeps_its_input_order():
    one = "g=linear(x,h_prev_0);s=activation_sigm(g);h_new_0=blend(s,h_prev_0,g)"
    two = "g=linear(x,h_prev_0);s=activation_sigm(g);h_new_0=blend(s,g,h_prev_0)"
    assert str(Recepie.parse(one)) != str(Recepie.parse(two))


def test_two_hidden_states_and_topological_order():
    r = Recepie.parse("h_new_1=linear(x,h_prev_1);t=activation_tanh(h_new_1);h_new_0=elementwise_sum(t,h_prev_0)")
    assert r.hidden_tuple_size == 2
    order = r.topological_order()
    assert order.index("h_new_1") < order.index("t") < order.index("h_new_0")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("n0=linear(x,h_prev_0);h_new_0=activation_relu(n0)", "unknown op 'activation_relu'"),
        ("a=linear(x,b);b=activation_tanh(a);h_new_0=activation_tanh(b)", "cycle"),
        ("n0=linear(x,h_prev_0);n1=activation_tanh(n0)", "no output node h_new_0"),
        ("h_new_0=linear(h_prev_0)", "no hidden output depends on the input x"),
        ("n0=linear(x,h_prev_0);h_new_0=elementwise_sum(n0)", "takes 2 inputs, got 1"),
        ("n0=linear(x,h_prev_0);h_new_0=elementwise_sum(n0,x)", "only linear nodes may read x"),
        ("n0=linear(x,h_prev_1);h_new_0=activation_tanh(n0)", "only 1 hidden states"),
        ("n0=linear(x,zz);h_new_0=activation_tanh(n0)", "undefined node 'zz'"),
        ("n0=linear(x);h_new_2=activation_tanh(n0);h_new_0=activation_tanh(n0)", "missing h_new_1"),
        ("n0=linear(x", "malformed node"),
        ('{"h_new_0": {"op": "linear"}}', "must be {'op': str, 'input': [names]}"),
        ('{"h_new_0": ', "not valid JSON"),
        ("", "empty recepie"),
    ],
)
def test_malformed_recepies_give_one_line_errors(text, message):
    with pytest.raises(ValueError, match=None) as info:
        Recepie.parse(text)
    text_of_error = str(info.value)
    assert message in text_of_error
    assert "\n" not in text_of_error
