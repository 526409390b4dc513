"""The numpy window engine (dense (request, age) grids) as it was before the Polars window
sums (issue 12), kept to test meterrisk.features.windows against: window.py (the Days grid,
means, SDs, trends, weekend, counts, temperature), deviation.py, routine.py, circadian.py and
frame.py (compute.window_frame and store_io.load_window_inputs as they were).
"""
