using PromptAD.Model;

namespace PromptAD.Serving;

/// <summary>
/// Reads the models a service is started with: each entry is <c>name=path</c>, a model file (named
/// after its file stem) or a folder (every *.safetensors inside, each named after its stem). Names must be unique.
/// </summary>
public static class ModelList
{
    public static Dictionary<string, string> Resolve(IEnumerable<string> specs)
    {
        var models = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(string name, string path)
        {
            if (name.Length == 0) throw new ArgumentException($"model '{path}': empty model name");
            if (!models.TryAdd(name, Path.GetFullPath(path)))
                throw new ArgumentException($"two models are named '{name}' ({models[name]} and {Path.GetFullPath(path)}); name them with name=path");
        }
        foreach (var spec in specs)
        {
            int eq = spec.IndexOf('=');
            if (eq > 0 && !File.Exists(spec) && !Directory.Exists(spec))
            {
                string path = spec[(eq + 1)..];
                if (!File.Exists(path)) throw new FileNotFoundException($"Model file '{Path.GetFullPath(path)}' does not exist (given as '{spec}').", path);
                Add(spec[..eq], path);
            }
            else if (Directory.Exists(spec))
            {
                var files = Directory.GetFiles(spec, "*.safetensors").Order(StringComparer.Ordinal).ToList();
                if (files.Count == 0) throw new ArgumentException($"the folder '{Path.GetFullPath(spec)}' holds no .safetensors model");
                foreach (var f in files) Add(Path.GetFileNameWithoutExtension(f), f);
            }
            else if (File.Exists(spec)) Add(Path.GetFileNameWithoutExtension(spec), spec);
            else throw new FileNotFoundException($"Model file or folder '{Path.GetFullPath(spec)}' does not exist.", spec);
        }
        if (models.Count == 0) throw new ArgumentException("no model given");
        return models;
    }

    /// <summary>Loads every model; the caller disposes them.</summary>
    public static Dictionary<string, PromptAdModel> Load(IReadOnlyDictionary<string, string> paths)
    {
        var loaded = new Dictionary<string, PromptAdModel>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, path) in paths) loaded[name] = PromptAdModel.Load(path);
            return loaded;
        }
        catch
        {
            foreach (var m in loaded.Values) m.Dispose();
            throw;
        }
    }
}
