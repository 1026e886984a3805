"""One module per workbook kind: its layout and its grid parser (plan, department, committee, controller workbook, bilaga)."""
