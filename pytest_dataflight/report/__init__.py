"""The report side: a contract's outcome becomes a line of the report.

``verdicts`` reads each test report where the test ran; ``reporter`` gathers
the facts on the controller and writes them; ``outcome`` holds the types
(Outcome, Status, ConsumerState) and decides each contract's outcome;
``build`` turns plain facts into the JSON report (``size`` keeps it under its
budget, ``evidence`` bounds what a contract records), ``summary`` renders it
as Markdown, ``catalog`` renders the contracts' declarations; ``redaction``
masks pytest's own output. ``outcome``, ``build``, ``size``, ``evidence``,
``summary`` and ``catalog`` import no pytest.
"""
