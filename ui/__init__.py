"""Thin Streamlit-side helpers: cached access to the store and small shared widgets."""
