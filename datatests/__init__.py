"""This pipeline's data contracts (PIPELINE.md): pytest datatests --run-date D --target T."""
