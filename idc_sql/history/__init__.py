"""Cohorts across IDC releases: what changed between two releases (:mod:`.diff`), and scheduled
refreshes that keep snapshots, delta manifests and a history (:mod:`.refresh`)."""
