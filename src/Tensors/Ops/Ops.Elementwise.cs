using PromptAD.Tensors.Autograd;

namespace PromptAD.Tensors;

// Elementwise arithmetic and activations.
public static partial class Ops
{
    public static Tensor Add(Tensor a, Tensor b) => Combine(a, 1f, b, 1f, "add");

    public static Tensor Sub(Tensor a, Tensor b) => Combine(a, 1f, b, -1f, "sub");

    /// <summary>alpha·a + beta·b for tensors of the same shape.</summary>
    public static Tensor Combine(Tensor a, float alpha, Tensor b, float beta, string op = "axpby")
    {
        using var trace = Trace.Scope(op);
        var be = SameBackend(op, a, b);
        if (!Shape.Equal(a.Shape, b.Shape)) throw new ArgumentException($"{op}: shapes {Shape.Format(a.Shape)} and {Shape.Format(b.Shape)} differ");
        var y = Like(a);
        be.Axpby(alpha, a, beta, b, y);
        return Track(y, op, [a, b], (dy, sink) =>
        {
            ScaledGrad(sink, a, dy, alpha);
            ScaledGrad(sink, b, dy, beta);
        });
    }

    public static Tensor Scale(Tensor x, float s)
    {
        using var trace = Trace.Scope("scale");
        var y = Like(x);
        x.Backend.Axpby(s, x, 0f, x, y);
        return Track(y, "scale", [x], (dy, sink) => ScaledGrad(sink, x, dy, s));
    }

    private static void ScaledGrad(GradSink sink, Tensor input, Tensor dy, float s)
    {
        if (!sink.Wants(input)) return;
        var g = Like(input);
        dy.Backend.Axpby(s, dy, 0f, dy, g);
        sink.Add(input, g);
    }

    /// <summary>x + bias broadcast over rows (bias has x's last dimension).</summary>
    public static Tensor AddBias(Tensor x, Tensor bias)
    {
        using var trace = Trace.Scope("add_bias");
        var be = SameBackend("add_bias", x, bias);
        var y = Like(x);
        be.AddBias(x, bias, y);
        return Track(y, "add_bias", [x, bias], (dy, sink) =>
        {
            ScaledGrad(sink, x, dy, 1f);
            if (sink.Wants(bias))
            {
                var db = Like(bias);
                be.SumRows(dy, db, 1f);
                sink.Add(bias, db);
            }
        });
    }

    public static Tensor Gelu(Tensor x) => Activation(x, "gelu", x.Backend.GeluForward, x.Backend.GeluBackward);

    public static Tensor QuickGelu(Tensor x) => Activation(x, "quickgelu", x.Backend.QuickGeluForward, x.Backend.QuickGeluBackward);

    public static Tensor Relu(Tensor x) => Activation(x, "relu", x.Backend.ReluForward, x.Backend.ReluBackward);

    private static Tensor Activation(Tensor x, string op, Action<Tensor, Tensor> forward, Action<Tensor, Tensor, Tensor> backward)
    {
        using var trace = Trace.Scope(op);
        var y = Like(x);
        forward(x, y);
        return Track(y, op, [x], (dy, sink) =>
        {
            var dx = Like(x);
            backward(x, dy, dx);
            sink.Add(x, dx);
        });
    }

    /// <summary>‖a[r] − b[r]‖² per row; b may be a single row broadcast over a's rows. Shape [rows].</summary>
    public static Tensor SquaredDistance(Tensor a, Tensor b)
    {
        using var trace = Trace.Scope("squared_distance");
        var be = SameBackend("squared_distance", a, b);
        var y = Tensor.Empty(be, a.Rows);
        be.SquaredDistanceForward(a, b, y);
        return Track(y, "squared_distance", [a, b], (dy, sink) =>
        {
            var da = Like(a);
            be.SquaredDistanceBackward(a, b, dy, da);
            if (sink.Wants(b))
            {
                var db = Like(b);
                if (b.Rows == 1 && a.Rows != 1) be.SumRows(da, db, -1f);
                else be.Axpby(-1f, da, 0f, da, db);
                sink.Add(b, db);
            }
            sink.Add(a, da);
        });
    }
}
