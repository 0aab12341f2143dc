"""One module per report notebook: the functions its sections call (DataFrame in, table/figure out)."""
