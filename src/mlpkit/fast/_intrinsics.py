"""LLVM intrinsics for the compiled kernels (imported only where numba is: this module imports
it)."""

from __future__ import annotations

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["prefetch"]


@intrinsic
def prefetch(typingctx, array, index):  # pragma: no cover - compiled into the kernels
    """``prefetch(a, i)``: fetch the cache line of ``a[i]`` for reading (``llvm.prefetch``,
    high locality); a hint without any effect on results."""
    if not isinstance(array, types.Array) or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        data = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, data, [args[1]],
                                           wraparound=False)
        byte_pointer, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32])
        function = builder.module.declare_intrinsic("llvm.prefetch", [byte_pointer],
                                                    function_type)
        # read, locality 2 (into L2: the weights keep L1), data cache
        builder.call(function, [builder.bitcast(pointer, byte_pointer), i32(0), i32(2), i32(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen
