"""Pure parts of packaging/setup_env.py: which Debian packages are missing, and the message."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "packaging" / "setup_env.py"


@pytest.fixture(scope="module")
def setup_env():
    spec = importlib.util.spec_from_file_location("concgui_setup_env", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FAKE_DPKG = """\
libgl1 install ok installed
libegl1 deinstall ok config-files
xvfb install ok installed
libxcb-cursor0 hold ok installed
"""


def test_parse_dpkg_status_keeps_only_installed(setup_env):
    assert setup_env.parse_dpkg_status(FAKE_DPKG) == {"libgl1", "xvfb", "libxcb-cursor0"}
    assert setup_env.parse_dpkg_status("") == set()


def test_required_packages_per_mode(setup_env):
    run = setup_env.required_packages("run", need_venv_package=False)
    test = setup_env.required_packages("test", need_venv_package=True)
    assert "libxcb-cursor0" in run and "xvfb" not in run and "python3-venv" not in run
    assert set(test) == set(run) | {"xvfb", "xauth", "python3-venv"}


def test_missing_packages_keeps_order(setup_env):
    installed = setup_env.parse_dpkg_status(FAKE_DPKG)
    required = setup_env.required_packages("test", need_venv_package=False)
    missing = setup_env.missing_packages(required, installed)
    assert missing[0] == "libegl1"
    assert missing[-1] == "xauth"
    assert not {"libgl1", "xvfb", "libxcb-cursor0"} & set(missing)
    assert setup_env.missing_packages(required, set(required)) == []


def test_install_hint_names_packages_and_command(setup_env):
    message = setup_env.install_hint(["libegl1", "xauth"])
    assert "missing system packages: libegl1 xauth" in message
    assert "sudo apt-get install -y --no-install-recommends libegl1 xauth" in message
