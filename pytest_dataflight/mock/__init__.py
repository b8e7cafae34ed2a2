"""Everything ``--target mock`` needs and ``--target live`` never imports: the
``moto_server`` subprocess, the HTTP stub for external APIs, the mock world a
suite seeds, and the mock target's lifecycle. No pytest import.
"""
