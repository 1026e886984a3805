"""The department workbook: its columns, its sheets as data, its reader and the plan slice it carries."""
