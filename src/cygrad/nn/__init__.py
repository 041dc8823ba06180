from cygrad.nn import utils
