-- Column statistics of the stored prices (SUMMARIZE)
SUMMARIZE SELECT ticker, date, close, adj_close, volume FROM prices
