"""Portal views, one module per area; views are thin: parse, call one service or selector, render."""
