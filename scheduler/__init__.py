"""kubesim's scheduler: kube-scheduler's framework, plugins and queue, in Python.

Entry point ``python -m scheduler`` (:mod:`scheduler.__main__`); the cycle itself reads
top to bottom in :mod:`scheduler.scheduler`; docs/scheduler.md explains both and how to
read a scheduling decision.
"""
