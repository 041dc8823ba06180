"""cygrad.utils: data loading (cygrad.utils.data)."""
from cygrad.utils import data
