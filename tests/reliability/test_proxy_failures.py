"""Items 4 and 6: a failing or misbehaving plugin proxy is an error record, never a traceback or a wrong number."""

from __future__ import annotations

import math
import textwrap
import uuid

import numpy as np
import pytest
import torch

from nasproxy_bench.runner import as_score
from nasproxy_bench.store import STATUS_ERROR, STATUS_OK, ResultStore
from tests.reliability.conftest import assert_one_line_error, cli, run_args

# proxy name suffix -> (body returning the value, expected status, expected message part or score)
BEHAVIOURS = {
    "keyerror": ("return {}['missing']", STATUS_ERROR, "KeyError: 'missing'"),
    "none": ("return None", STATUS_ERROR, "TypeError: returned NoneType"),
    "string": ("return '1.5'", STATUS_ERROR, "returned str '1.5', expected a number"),
    "bool": ("return True", STATUS_ERROR, "returned bool"),
    "complex": ("return 1 + 2j", STATUS_ERROR, "returned complex"),
    "attribute": ("return ctx.no_such_thing", STATUS_ERROR, "AttributeError"),
    "multiline": ("raise LookupError('first line\\nsecond line')", STATUS_ERROR, "LookupError: first line"),
    "numpy": ("import numpy; return numpy.float32(2.5)", STATUS_OK, 2.5),
    "tensor": ("import torch; return torch.tensor([4.0])", STATUS_OK, 4.0),
    "int": ("return 7", STATUS_OK, 7.0),
}


def write_plugin(tmp_path, monkeypatch, body: str) -> str:
    module = f"plugin_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(body))
    monkeypatch.syspath_prepend(str(tmp_path))
    return module


def test_every_misbehaviour_is_an_error_record_and_the_run_goes_on(fake_root, tmp_path, monkeypatch, capsys):
    tag = uuid.uuid4().hex[:6]
    source = "from nasproxy_bench.registry import proxy\n"
    for suffix, (body, _, _) in BEHAVIOURS.items():
        source += (f"\n@proxy('{suffix}_{tag}', family='structural', version='1', needs_data=False)\n"
                   f"def p_{suffix}(ctx):\n    {body}\n")
    module = write_plugin(tmp_path, monkeypatch, source)
    names = ",".join(f"{s}_{tag}" for s in BEHAVIOURS)
    store = tmp_path / "s.h5"
    code, out, err = cli(capsys, *run_args(fake_root, store, n=3, proxies=f"{names},params"), "--plugin", module)
    assert code == 0, err
    assert "21 proxy errors" in out  # 7 failing proxies x 3 architectures
    groups = {g.key.proxy: g for g in ResultStore(store).groups.values()}
    assert len(groups["params"].records) == 3
    for suffix, (_, status, expected) in BEHAVIOURS.items():
        records = list(groups[f"{suffix}_{tag}"].records.values())
        assert len(records) == 3 and {r.status for r in records} == {status}, suffix
        if status == STATUS_ERROR:
            assert all(math.isnan(r.score) and expected in r.message and "\n" not in r.message for r in records), records
        else:
            assert [r.score for r in records] == [expected] * 3


@pytest.mark.parametrize("value", [None, "1.5", True, np.bool_(False), 1j, torch.ones(2), [1.0], {"a": 1}])
def test_non_numbers_are_refused(value):
    with pytest.raises(TypeError, match="expected a number"):
        as_score(value)


@pytest.mark.parametrize("value, expected", [(3, 3.0), (np.float16(0.5), 0.5), (np.int64(-2), -2.0), (torch.tensor(1.25), 1.25),
                                             (np.array([[6.0]]), 6.0), (math.inf, math.inf)])
def test_real_numbers_are_accepted(value, expected):
    assert as_score(value) == expected


def test_keyboard_interrupt_in_a_proxy_still_interrupts(fake_root, tmp_path, monkeypatch, capsys):
    module = write_plugin(tmp_path, monkeypatch, f"""
        from nasproxy_bench.registry import proxy

        @proxy('interrupt_{uuid.uuid4().hex[:6]}', family='structural', version='1', needs_data=False)
        def stop(ctx):
            raise KeyboardInterrupt
        """)
    from nasproxy_bench.registry import load_plugin, proxies

    load_plugin(module)
    name = next(n for n in proxies() if n.startswith("interrupt_"))
    code, _, err = cli(capsys, *run_args(fake_root, tmp_path / "s.h5", proxies=f"params,{name}"), "--plugin", module)
    assert code == 130 and "interrupted" in err


@pytest.mark.parametrize("body, line, what", [
    ("x = 1\ndef broken(:\n    pass\n", 2, "SyntaxError: invalid syntax"),
    ("import math\n\nvalue = 1 / 0\n", 3, "ZeroDivisionError: division by zero"),
    ("import no_such_package_xyz\n", 1, "No module named 'no_such_package_xyz'"),
])
def test_plugin_failing_at_import_names_file_and_line(tmp_path, monkeypatch, capsys, body, line, what):
    module = write_plugin(tmp_path, monkeypatch, body)
    code, _, err = cli(capsys, "list", "--plugin", module)
    assert_one_line_error(code, err, f"{tmp_path / module}.py:{line}", what, "failed at import")


def test_missing_plugin_module_is_one_line(capsys):
    code, _, err = cli(capsys, "list", "--plugin", "no_such_plugin_xyz")
    assert_one_line_error(code, err, "cannot import plugin 'no_such_plugin_xyz'")


@pytest.mark.parametrize("name", ["synflow", "params"])
def test_plugin_reusing_a_builtin_name_is_refused(tmp_path, monkeypatch, capsys, name):
    module = write_plugin(tmp_path, monkeypatch, f"""
        from nasproxy_bench.registry import proxy

        @proxy('{name}', family='structural', version='1', needs_data=False)
        def fake(ctx):
            return 0.0
        """)
    code, _, err = cli(capsys, "list", "--plugin", module)
    assert_one_line_error(code, err, f"proxy name '{name}' is already registered by nasproxy_bench.proxies", f"{module}.py:4")
    from nasproxy_bench.registry import get_proxy

    assert get_proxy(name).fn.__module__.startswith("nasproxy_bench.proxies")  # the built-in is still the one used
