"""Ready for a shared deployment and safe to publish: no eval/exec outside the tests, the upload limit set in
the server's config and equal to the page's own check, no secrets in the repository, every dependency
pinned, the server config that Community Cloud needs, nothing trained cached across sessions, and a README
that says how to deploy.
"""
from __future__ import annotations

import ast
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from ui.page.limits import KNOBS

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / ".streamlit" / "config.toml"


def repository_files() -> list[Path]:
    """Every file git would publish: tracked, plus untracked ones that .gitignore does not exclude."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    return sorted({REPO / name for name in listed if name and (REPO / name).is_file()})


def app_sources() -> list[Path]:
    """The Python that runs the app, the CLI and the benchmarks: everything but the tests."""
    return [path for path in repository_files() if path.suffix == ".py" and path.relative_to(REPO).parts[0] != "tests"]


# --- no eval or exec --------------------------------------------------------------------------------------

def test_that_no_source_outside_the_tests_calls_eval_or_exec() -> None:
    sources = app_sources()
    assert any(path.name == "expression.py" for path in sources)  # the parser of typed functions is among them
    found = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec"):
                found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.func.id}()")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("eval", "exec") and isinstance(node.func.value, ast.Name) \
                    and node.func.value.id == "builtins":
                found.append(f"{path.relative_to(REPO)}:{node.lineno} builtins.{node.func.attr}()")
    assert found == []


def test_that_a_plain_text_search_finds_no_eval_or_exec_call_either() -> None:
    # Catches what the syntax tree cannot: getattr tricks written as text, or a file that fails to parse.
    pattern = re.compile(r"(?<![\w.])(eval|exec)\s*\(")
    hits = [f"{path.relative_to(REPO)}:{number}" for path in app_sources()
            for number, line in enumerate(path.read_text().splitlines(), start=1)
            if pattern.search(line.split("#", 1)[0])]
    assert hits == []


# --- uploads ------------------------------------------------------------------------------------------------

def test_that_the_server_config_sets_the_upload_limit_the_page_checks() -> None:
    server = tomllib.loads(CONFIG.read_text())["server"]
    assert server["maxUploadSize"] == KNOBS["max_upload_mb"].default == 5
    page = (REPO / "ui" / "custom" / "source_panel.py").read_text()
    assert "max_upload_size=" in page and "upload_limits()" in page


# --- secrets ---------------------------------------------------------------------------------------------------

SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY"),
    "AWS access key": re.compile(r"\bA(?:KIA|SIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "OpenAI or Anthropic key": re.compile(r"\bsk-(?:ant-)?[A-Za-z0-9_-]{32,}"),
    "Hugging Face token": re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"),
    "password or token assigned": re.compile(
        r"""(?i)\b(?:password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)\b\s*[:=]\s*["'][^"'\s]{12,}["']"""),
    "credentials in a URL": re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s@'\"]{6,}@"),
}


def test_that_no_file_in_the_repository_holds_a_likely_secret() -> None:
    files = repository_files()
    assert len(files) > 50
    found = []
    for path in files:
        data = path.read_bytes()
        if b"\0" in data[:4096]:
            continue  # binary (a screenshot, a fixture workbook)
        text = data.decode("utf-8", errors="replace")
        for kind, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(text):
                found.append(f"{path.relative_to(REPO)}: {kind}: {match.group(0)[:12]}…")
    assert found == []


def test_that_the_secret_patterns_do_find_secrets() -> None:
    samples = {"private key": "-----BEGIN RSA " + "PRIVATE KEY-----", "AWS access key": "AKIA" + "ABCDEFGHIJKLMNOP",
               "GitHub token": "ghp_" + "a" * 36, "password or token assigned": 'api_key = "' + "x7" * 8 + '"',
               "credentials in a URL": "https://user:" + "hunter22" + "@example.com"}
    for kind, text in samples.items():
        assert SECRET_PATTERNS[kind].search(text), kind


def test_that_the_streamlit_secrets_file_can_never_be_committed() -> None:
    assert ".streamlit/secrets.toml" in (REPO / ".gitignore").read_text().splitlines()
    assert not any(path.name == "secrets.toml" for path in repository_files())


# --- dependencies --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ("requirements.txt", "requirements-test.txt"))
def test_that_every_dependency_is_pinned_to_one_version(name: str) -> None:
    lines = [line.split("#", 1)[0].strip() for line in (REPO / name).read_text().splitlines()]
    packages = [line for line in lines if line and not line.startswith("-")]
    assert packages
    for line in packages:
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!-]+", line), line
    options = [line for line in lines if line.startswith("-")]
    assert all(o in ("-r requirements.txt", "--extra-index-url https://download.pytorch.org/whl/cpu")
               for o in options), options


def test_that_community_cloud_installs_cpu_builds_only() -> None:
    lines = (REPO / "requirements.txt").read_text().splitlines()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    assert any(line.startswith("tensorflow-cpu==") for line in lines)
    assert not any(re.match(r"tensorflow==|nvidia-|torch.*\+cu", line) for line in lines)


# --- the server's config -------------------------------------------------------------------------------------

def test_that_the_server_config_is_what_a_shared_deployment_needs() -> None:
    config = tomllib.loads(CONFIG.read_text())
    assert config["server"]["fileWatcherType"] == "none" and config["server"]["headless"] is True
    assert config["runner"]["fastReruns"] is True  # as Community Cloud forces it
    assert config["client"]["showErrorDetails"] in ("type", "none", False), "never a traceback"
    assert config["browser"]["gatherUsageStats"] is False
    assert {"light", "dark"} <= set(config["theme"])


# --- nothing trained is shared between sessions ------------------------------------------------------------------

TRAINED = re.compile(r"\b(Run|Stepper|make_stepper|train|compare|run_plan|prepare|advance|iterate|measure)\b")


def test_that_no_cache_resource_holds_anything_trained() -> None:
    decorated = []
    for path in app_sources():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for decorator in node.decorator_list:
                    if "cache_resource" in ast.unparse(decorator):
                        decorated.append((path, node))
        assert "st.cache_resource(" not in path.read_text().replace("@st.cache_resource(", ""), path
    for path, node in decorated:
        body = ast.unparse(node)
        assert not TRAINED.search(body.split(":", 1)[1]), f"{path.relative_to(REPO)}:{node.name} caches training"
    # facts about the machine (a framework's import cost, the steps/s measured here that every session's pace
    # panel reads), and the server's worker processes (each run lives in one worker and belongs to the
    # session holding its handle): none is any session's training state
    assert sorted(node.name for _, node in decorated) == ["_import_cost", "timed_on_this_server", "training_pool"]


# --- the README says how to deploy -------------------------------------------------------------------------------

def deploy_section() -> str:
    readme = (REPO / "README.md").read_text()
    match = re.search(r"^## Deploy.*?(?=^## |\Z)", readme, flags=re.S | re.M)
    assert match, "the README has no Deploy section"
    return match.group(0)


def test_that_the_readme_says_how_to_deploy_to_community_cloud() -> None:
    section = deploy_section()
    for needed in ("share.streamlit.io", "dashboard.py", "Python version", "3.11", "requirements.txt",
                   "secrets", "config.toml", "GB"):
        assert needed in section, needed


def test_that_community_cloud_installs_the_compiler_torch_compile_needs_and_the_readme_says_what_it_costs() -> None:
    packages = [line.strip() for line in (REPO / "packages.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert packages == ["g++"]  # apt installs each line; torch.compile looks for g++ ($CXX otherwise)
    section = deploy_section()
    assert "packages.txt" in section and "g++" in section and "MB" in section and " s " in section


# --- CI runs every test or fails ----------------------------------------------------------------------------

def _ci_run(tmp_path: Path, *, root: bool, apt_status: int, apt_installs: bool) -> tuple[int, bool]:
    """.ci/run with stand-ins for id, apt-get and python3.11 first on PATH and Chromium and nginx looked for in
    tmp_path; returns its exit status and whether it got as far as the test command."""
    bin_dir, reached = tmp_path / "bin", tmp_path / "reached-tests"
    chromium, nginx = tmp_path / "chromium", tmp_path / "nginx"
    bin_dir.mkdir()
    fakes = {
        "id": f"echo {0 if root else 1000}",
        "apt-get": "".join(f'if [ "$1" = install ]; then printf "#!/bin/sh\\n" > {path}; chmod +x {path}; fi\n'
                           for path in ((chromium, nginx) if apt_installs else ())) + f"exit {apt_status}",
        "python3.11": f"touch {reached}; exit 1",  # stands in for the README's command, which must not run here
    }
    for name, body in fakes.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CI_CHROMIUM": str(chromium), "CI_NGINX": str(nginx),
           "HOME": str(tmp_path)}
    done = subprocess.run(["bash", str(REPO / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60)
    return done.returncode, reached.exists()


@pytest.mark.parametrize("root, apt_status, apt_installs", [(True, 100, False), (True, 0, False), (False, 0, True)],
                         ids=["apt-get fails", "apt-get leaves no chromium", "not root"])
def test_that_ci_fails_before_the_tests_when_it_cannot_install_chromium(tmp_path: Path, root: bool, apt_status: int,
                                                                        apt_installs: bool) -> None:
    status, reached_tests = _ci_run(tmp_path, root=root, apt_status=apt_status, apt_installs=apt_installs)
    assert status != 0 and not reached_tests


def test_that_ci_installs_chromium_and_then_runs_the_readme_test_command_with_ci_set(tmp_path: Path) -> None:
    _, reached_tests = _ci_run(tmp_path, root=True, apt_status=0, apt_installs=True)
    assert reached_tests
    script = (REPO / ".ci" / "run").read_text()
    readme = (REPO / "README.md").read_text()
    command = script.strip().splitlines()[-1]
    assert command in readme and "export CI=true" in script and "set -euo pipefail" in script


def test_that_the_two_test_processes_keep_the_tests_that_share_work_in_one() -> None:
    from conftest import worker_group

    # the lessons' runs are the runs the challenges pose; the browser tests share a server and a Chromium
    assert worker_group("tests/test_lessons.py::test_a[x]") == worker_group("tests/test_challenges.py::test_b")
    assert worker_group("tests/browser/test_load.py::test_a") == worker_group("tests/browser/test_pages.py::test_b[y]")
    # a module's tests stay together (its module fixtures are made once); modules sharing nothing go apart
    assert worker_group("tests/test_export.py::test_a[1]") == worker_group("tests/test_export.py::test_b")
    assert worker_group("tests/test_export.py::test_a") != worker_group("tests/test_engine.py::test_a")
    assert worker_group("tests/test_lessons.py::test_a") != worker_group("tests/browser/test_load.py::test_a")
    script = (REPO / ".ci" / "run").read_text().strip().splitlines()[-1]
    # every test but the browser tests in two processes, then the browser tests in one
    assert script.endswith('python -m pytest -n 2 --dist loadscope -m "not browser" && '
                           '.venv/bin/python -m pytest -m browser')


def test_that_a_test_that_cannot_run_fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import unavailable

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run every test"):
        unavailable("no such framework")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no such framework"):
        unavailable("no such framework")
