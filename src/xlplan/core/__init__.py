"""The pure core: the plan model, targets, statuses and the one assessment. No file, zip, HTTP or Excel imports (a test keeps it so)."""
