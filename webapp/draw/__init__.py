"""The draw (双随机): the pure engine of spec ``suijian-draw/1`` and its standalone verifier."""
