"""The application layer: what the product does, without Gradio and without SQL.

- ``permissions``: the capabilities each role is granted, checked here and only here.
- ``services``: every operation of the app (practice, report, drill, history, retry),
  each taking the signed-in user and checking a capability before it touches a repository.

The UI pages (``simulator.ui``) call this layer only; the repositories (``simulator.store``)
read and write rows and decide nothing about who may see them.
"""
