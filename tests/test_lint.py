import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run([str(ruff), "check", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def _imports(path: Path) -> set[str]:
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_the_cli_only_wires_command_groups_and_modules_import_no_circle():
    cli = ROOT / "wildwatch" / "cli.py"
    assert "def cmd_" not in cli.read_text() and len(cli.read_text().splitlines()) < 80
    groups = {p.stem for p in (ROOT / "wildwatch" / "commands").glob("*.py") if p.stem != "__init__"}
    wired = cli.read_text()
    assert all(g in wired for g in groups), "every command module is listed in cli.GROUPS"
    # airflow_services is the lower layer: cluster builds on it, never the other way round
    assert not any("cluster" in m for m in _imports(ROOT / "wildwatch" / "airflow_services.py"))
    assert "wildwatch.airflow_services" in _imports(ROOT / "wildwatch" / "cluster.py")
