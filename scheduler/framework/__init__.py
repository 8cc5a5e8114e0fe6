"""The scheduling framework: the contract between the scheduler and its plugins.

:mod:`.interfaces` (one protocol per extension point), :mod:`.status`,
:mod:`.cycle_state`, the parsed objects plugins read (:mod:`.podinfo`,
:mod:`.nodeinfo`), and :mod:`.runtime`, which runs one profile's plugins.
"""
