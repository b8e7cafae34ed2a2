"""Machinery for the plugin's own tests and benchmarks; the runtime never imports it."""
