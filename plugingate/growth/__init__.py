"""Permission growth between two versions of a plugin, and the signed approvals that let it in.

``footprint`` reads what one bundle asks for (its declaration and its manifests, as the gate reads
them) as sets of comparable atoms; ``compare`` lists what a new version asks for beyond an old one;
``approvals`` makes and verifies the signed statements that approve such growth; ``step`` is the
gate's step (``gate --previous OLD``); ``rules`` holds the PG-GRW rule ids.
"""
