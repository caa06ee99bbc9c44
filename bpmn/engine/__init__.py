"""The BPMN engine: plain Python around SpiffWorkflow 3.2, no Django.

- ``xml``: hardened loading (no DTD, no entities, no network, size cap)
- ``timers``: ISO-8601 timer literals as other modelers write them
- ``working_hours``: timers due "in days" fall due at a working hour (configured by the app)
- ``lint``: deploy-time checks SpiffWorkflow does not do
- ``expressions``: the restricted environment every workflow runs in
- ``definition``: compile a model for deployment (all of the above, then a full parse)
- ``runtime``: load/save (spec stored apart, state as text), advance, user tasks, timers
- ``workflow_cache``: live workflows of recently stepped instances (skips a restore)
"""
