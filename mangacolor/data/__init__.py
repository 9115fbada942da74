"""Pages and what is made of them: the synthetic series, users' pages, the print model, tiles and targets."""
