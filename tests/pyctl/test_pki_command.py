"""``pyctl pki init`` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyctl.cli import main


def test_pki_init(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pki"
    assert main(["pki", "init", "--dir", str(out), "--nodes", "n1,n2", "--apiserver-sans", "lab.local,192.168.1.10"]) == 0
    printed = capsys.readouterr().out
    assert "system:node:n2" in printed and "kube-scheduler.kubeconfig" in printed
    assert (out / "nodes" / "n1" / "kubelet.crt").is_file()
    key = (out / "ca.key").read_bytes()
    assert main(["pki", "init", "--dir", str(out)]) == 0
    assert (out / "ca.key").read_bytes() == key
    assert main(["pki", "init", "--dir", str(out), "--apiserver-sans", "new.name"]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["pki", "init", "--dir", str(out), "--apiserver-sans", "new.name", "--force"]) == 0
    assert (out / "ca.key").read_bytes() != key
