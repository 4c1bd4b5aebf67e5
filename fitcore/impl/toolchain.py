"""Whether torch.compile's CPU backend can build here, known before anything is offered or compiled.

TorchInductor writes C++ and builds it with the system compiler. It looks for that compiler the way
``torch._inductor.cpp_builder.get_cpp_compiler`` does: ``$CXX``, else ``g++`` (``clang++`` on macOS,
``cl`` on Windows), kept if ``COMPILER --version`` runs. This module repeats that search without
importing torch, once per process (about 8 ms: one short subprocess), and checks that Python's C
header is there (the compiled kernels include Python.h), so a machine without a
compiler (slim container images) is told why and how to fix it instead of failing mid-run.

A compile that fails anyway at run time for want of a compiler (``InvalidCxxCompiler``, a C++ build
error) is recorded with ``record_compile_failure``, so the offers disappear for the rest of the process.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig

_RECORDED: list[str] = []  # a compiler failure seen at run time; wins over the detection


def default_compiler() -> str:
    """The compiler inductor would try: $CXX, else the platform's usual one."""
    if sys.platform == "win32":
        return os.environ.get("CXX", "cl")
    return os.environ.get("CXX", "clang++" if sys.platform == "darwin" else "g++")


def install_hint() -> str:
    """How to get a C++ compiler on this platform."""
    if sys.platform == "darwin":
        return "install the Command Line Tools (xcode-select --install)"
    if sys.platform == "win32":
        return "install Visual Studio Build Tools with the C++ workload and run from its developer prompt"
    return "install one (Debian/Ubuntu: apt-get install g++; Fedora: dnf install gcc-c++) or point $CXX at one"


def python_headers() -> str | None:
    """Where Python.h should be (inductor's kernels include it), or None where sysconfig knows no place."""
    include = sysconfig.get_path("include")
    return os.path.join(include, "Python.h") if include else None


@functools.lru_cache(maxsize=1)
def _detected_problem() -> str | None:
    headers = python_headers()
    if headers is not None and not os.path.exists(headers):
        return f"Python's C headers are missing ({headers}; Debian/Ubuntu: apt-get install python3-dev)"
    compiler = default_compiler()
    path = shutil.which(compiler)
    if path is None:
        return f"no C++ compiler found ({compiler!r} is not on the PATH): {install_hint()}"
    if sys.platform == "win32":  # cl has no --version; inductor only checks that it runs
        return None
    try:
        subprocess.run([path, "--version"], capture_output=True, check=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as error:
        return f"the C++ compiler {compiler!r} does not run ({type(error).__name__}): {install_hint()}"
    return None


def compiler_problem() -> str | None:
    """None where torch.compile can build C++ here; otherwise what is wrong and how to fix it."""
    return _RECORDED[0] if _RECORDED else _detected_problem()


def torch_compile_unavailable() -> str | None:
    """None where PyTorch's compiled path can run; otherwise the reason and the fix, to which each caller
    adds its own way back to the eager path."""
    problem = compiler_problem()
    if problem is None:
        return None
    return f"torch.compile builds C++ for the CPU and cannot here: {problem}"


def record_compile_failure(error: BaseException) -> bool:
    """Remember a compile that failed for want of a working C++ compiler; True if it was that."""
    text = f"{type(error).__name__}: {error}".lower()
    if any(sign in text for sign in ("invalidcxxcompiler", "cppcompileerror", "c++ compile")):
        if not _RECORDED:
            _RECORDED.append(f"the C++ compiler failed when torch.compile used it: {install_hint()}")
        return True
    return False


def forget() -> None:
    """Detect again from scratch (tests; or after installing a compiler in a long-lived process)."""
    _RECORDED.clear()
    _detected_problem.cache_clear()
