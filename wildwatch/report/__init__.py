"""The monthly survey report: tables (HTML, CSV, XLSX) and plots of what the survey found and what
came of it. `wildwatch report --month YYYY-MM`."""
