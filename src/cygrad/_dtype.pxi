# Data types and type promotion. Promotion is decided here and nowhere else.

# Codes are ordered so that promoting two dtypes of this set is max(code): bool < int32 < int64 <
# float32 < float64 is a chain in torch's promotion lattice.
cdef enum:
    BOOL = 0
    INT32 = 1
    INT64 = 2
    FLOAT32 = 3
    FLOAT64 = 4
    NO_DTYPE = -1


cdef class DType:
    """A tensor element type: cygrad.float32, cygrad.float64, cygrad.int64, cygrad.int32, cygrad.bool."""
    cdef readonly str name
    cdef readonly int code
    cdef readonly object numpy_dtype
    cdef readonly int typenum
    cdef readonly bint is_floating_point
    cdef readonly int itemsize
    cdef readonly str legacy_name   # torch's type() name, used in error messages

    def __repr__(self):
        return "cygrad." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))


cdef DType _make_dtype(str name, int code, object np_dtype, bint is_float, str legacy_name):
    cdef DType d = DType.__new__(DType)
    d.name = name
    d.code = code
    d.numpy_dtype = np.dtype(np_dtype)
    d.typenum = d.numpy_dtype.num
    d.is_floating_point = is_float
    d.itemsize = d.numpy_dtype.itemsize
    d.legacy_name = legacy_name
    return d


bool_ = _make_dtype("bool", BOOL, np.bool_, False, "BoolTensor")
int32 = _make_dtype("int32", INT32, np.int32, False, "IntTensor")
int64 = _make_dtype("int64", INT64, np.int64, False, "LongTensor")
float32 = _make_dtype("float32", FLOAT32, np.float32, True, "FloatTensor")
float64 = _make_dtype("float64", FLOAT64, np.float64, True, "DoubleTensor")

cdef tuple _DTYPES = (bool_, int32, int64, float32, float64)
# torch's names in messages such as "expected scalar type Float but found Double"
cdef tuple _SCALAR_TYPE_NAMES = ("Bool", "Int", "Long", "Float", "Double")

cdef int _default_float_code = FLOAT32


def _dtype_by_name(str name):
    for d in _DTYPES:
        if (<DType>d).name == name:
            return d
    raise ValueError(f"unknown dtype {name!r}")


cdef inline DType _dtype_of_code(int code):
    return <DType>_DTYPES[code]


cdef int _code_of_typenum(int typenum) except? -2:
    """The dtype code of a numpy array type, or -1 when cygrad has no such dtype."""
    if typenum == cnp.NPY_FLOAT32:
        return FLOAT32
    if typenum == cnp.NPY_FLOAT64:
        return FLOAT64
    if typenum == cnp.NPY_INT64:
        return INT64
    if typenum == cnp.NPY_BOOL:
        return BOOL
    if typenum == cnp.NPY_INT32:
        return INT32
    # numpy has two int64 type numbers on some platforms (long and longlong)
    if typenum == cnp.NPY_LONGLONG or typenum == cnp.NPY_LONG:
        if cnp.PyArray_DescrFromType(typenum).itemsize == 8:
            return INT64
    return NO_DTYPE


cdef inline int _category(int code) noexcept:
    """0 for bool, 1 for integers, 2 for floating point."""
    if code == BOOL:
        return 0
    if code <= INT64:
        return 1
    return 2


cdef inline int _promote(int a, int b) noexcept:
    if a == NO_DTYPE:
        return b
    if b == NO_DTYPE:
        return a
    return a if a > b else b


cdef inline int _scalar_code(object value) except? -2:
    """The dtype a Python number stands for when it meets a tensor (a "wrapped number")."""
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT64
    if isinstance(value, float):
        return _default_float_code
    raise TypeError(f"unsupported operand type: {type(value).__name__}")


cdef inline int _combine_categories(int higher, int lower) noexcept:
    # torch's rule: a lower-priority operand can only raise the result's category, not its width
    # within a category (float32 tensor * float64 0-d tensor -> float32).
    if higher == NO_DTYPE:
        return lower
    if _category(higher) == 2:
        return higher
    if higher == BOOL or (lower != NO_DTYPE and _category(lower) == 2):
        return _promote(higher, lower)
    return higher


cdef inline void _update_promotion(int *dim_result, int *zero_result, int *wrapped_result,
                                   object operand) except *:
    cdef TensorBase t
    if isinstance(operand, TensorBase):
        t = <TensorBase>operand
        if _ndim(t._data) > 0:
            dim_result[0] = _promote(dim_result[0], t._code)
        else:
            zero_result[0] = _promote(zero_result[0], t._code)
    else:
        wrapped_result[0] = _promote(wrapped_result[0], _scalar_code(operand))


cdef int _result_code(object a, object b) except -2:
    """torch.result_type for two operands, each a tensor or a Python number."""
    cdef int dim_result = NO_DTYPE, zero_result = NO_DTYPE, wrapped_result = NO_DTYPE
    _update_promotion(&dim_result, &zero_result, &wrapped_result, a)
    _update_promotion(&dim_result, &zero_result, &wrapped_result, b)
    return _combine_categories(dim_result, _combine_categories(zero_result, wrapped_result))


cdef inline int _float_code(int code) noexcept:
    """Integer and bool inputs of floating-point ops compute in the default float dtype."""
    return code if _category(code) == 2 else _default_float_code


def result_type(a, b):
    """torch.result_type: the dtype an arithmetic op on a and b produces."""
    return _dtype_of_code(_result_code(a, b))


def promote_types(DType a, DType b):
    return _dtype_of_code(_promote(a.code, b.code))


cdef int _optional_code(object requested) except -2:
    """The code of a dtype argument, or NO_DTYPE when it is None."""
    if requested is None:
        return NO_DTYPE
    if not isinstance(requested, DType):
        raise TypeError(f"dtype must be a cygrad dtype, not {type(requested).__name__}")
    return (<DType>requested).code
