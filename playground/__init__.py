"""The app layer's logic: the validated setup object, its URL/JSON codecs, cached runs, lessons.

No Streamlit widgets here except in `playground.ui`; pages wire widgets to these functions.
"""
