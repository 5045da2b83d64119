"""Reports: every format is written from one ``GateResult`` and knows nothing of the pipeline."""
