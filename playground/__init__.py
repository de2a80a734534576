"""The app layer's logic: the validated setup object, its URL/JSON codecs, cached runs, lessons,
the logic of Compare and MNIST, the data writers and the command-line tools.

No Streamlit here (tests/test_layers.py checks it): the pages in app_pages/ wire widgets to these
functions and show what viz builds.
"""
