"""What several thinkpipe tools share: record streams, models, drawing, rewards, training.

core never imports thinkpipe.tools or thinkpipe.cli (DESIGN.md, Layout).
"""
