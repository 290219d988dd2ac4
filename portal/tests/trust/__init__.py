"""The trust suite: the portal's standing proof that it can be trusted with patient images.

Cross-cutting tests that belong to no one app, run against the portal as a whole: every URL
pattern classified (public or refusing an anonymous client), the persona-by-request matrix over
pages, API and DICOMweb, and the scan for leaked secrets and other groups' patient data — each
through Django (the live server) and through `make stack`'s Nginx. The same world (world.py),
the same matrix (matrix.py) and the same scan (leaks.py) serve both runs.
"""
