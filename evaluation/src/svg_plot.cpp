// Rendering of the evaluation plots as SVG text.
#include "cs/evaluation/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace cs::evaluation {
namespace {

constexpr double kWidth = 640.0;
constexpr double kHeight = 420.0;
constexpr double kLeft = 72.0;
constexpr double kRight = 24.0;
constexpr double kTop = 40.0;
constexpr double kBottom = 56.0;

std::string escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '&':
                out += "&amp;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string format_tick(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3g", value);
    return buffer;
}

// About five round tick values covering [low, high].
std::vector<double> ticks(double low, double high) {
    const double span = high - low;
    const double raw = span / 5.0;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (double factor : {1.0, 2.0, 2.5, 5.0, 10.0}) {
        if (factor * magnitude >= raw) {
            step = factor * magnitude;
            break;
        }
    }
    std::vector<double> values;
    for (double v = std::ceil(low / step) * step; v <= high + 1e-9 * span; v += step) {
        values.push_back(std::fabs(v) < 1e-12 * span ? 0.0 : v);
    }
    return values;
}

}  // namespace

SvgPlot::SvgPlot(std::string title, std::string x_label, std::string y_label)
    : title_(std::move(title)), x_label_(std::move(x_label)), y_label_(std::move(y_label)) {}

void SvgPlot::x_range(double low, double high) {
    fixed_x_ = true;
    x_low_ = low;
    x_high_ = high;
}

void SvgPlot::y_range(double low, double high) {
    fixed_y_ = true;
    y_low_ = low;
    y_high_ = high;
}

std::string SvgPlot::render() const {
    // data ranges
    double x_low = std::numeric_limits<double>::infinity();
    double x_high = -x_low;
    double y_low = x_low;
    double y_high = -x_low;
    const auto extend = [&](const std::vector<double>& xs, const std::vector<double>& ys) {
        for (size_t i = 0; i < xs.size() && i < ys.size(); ++i) {
            if (!std::isfinite(xs[i]) || !std::isfinite(ys[i]) || (log_y_ && ys[i] <= 0.0)) {
                continue;
            }
            x_low = std::min(x_low, xs[i]);
            x_high = std::max(x_high, xs[i]);
            y_low = std::min(y_low, log_y_ ? std::log10(ys[i]) : ys[i]);
            y_high = std::max(y_high, log_y_ ? std::log10(ys[i]) : ys[i]);
        }
    };
    for (const auto& series : series_) {
        extend(series.x, series.y);
    }
    for (const auto& band : bands_) {
        extend(band.x, band.lower);
        extend(band.x, band.upper);
    }
    if (fixed_x_) {
        x_low = x_low_;
        x_high = x_high_;
    }
    if (fixed_y_) {
        y_low = log_y_ ? std::log10(y_low_) : y_low_;
        y_high = log_y_ ? std::log10(y_high_) : y_high_;
    }
    if (!(x_high > x_low)) {
        x_low -= 0.5;
        x_high = x_low + 1.0;
    }
    if (!(y_high > y_low)) {
        y_low -= 0.5;
        y_high = y_low + 1.0;
    }
    if (!fixed_y_) {
        const double margin = 0.05 * (y_high - y_low);
        y_low -= margin;
        y_high += margin;
    }

    const double plot_width = kWidth - kLeft - kRight;
    const double plot_height = kHeight - kTop - kBottom;
    const auto px = [&](double x) { return kLeft + (x - x_low) / (x_high - x_low) * plot_width; };
    const auto py = [&](double y) {
        const double value = log_y_ ? std::log10(std::max(y, 1e-300)) : y;
        return kTop + (1.0 - (value - y_low) / (y_high - y_low)) * plot_height;
    };

    std::ostringstream svg;
    svg.precision(5);
    svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << kWidth << " " << kHeight
        << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
        << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        << "<text x=\"" << kWidth / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">"
        << escape(title_) << "</text>\n";

    // axes and ticks
    svg << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << plot_width
        << "\" height=\"" << plot_height << "\" fill=\"none\" stroke=\"#333\"/>\n";
    for (double tick : ticks(x_low, x_high)) {
        svg << "<line x1=\"" << px(tick) << "\" x2=\"" << px(tick) << "\" y1=\""
            << kTop + plot_height << "\" y2=\"" << kTop + plot_height + 5 << "\" stroke=\"#333\"/>"
            << "<text x=\"" << px(tick) << "\" y=\"" << kTop + plot_height + 18
            << "\" text-anchor=\"middle\">" << format_tick(tick) << "</text>\n";
    }
    for (double tick : ticks(y_low, y_high)) {
        const double y = kTop + (1.0 - (tick - y_low) / (y_high - y_low)) * plot_height;
        svg << "<line x1=\"" << kLeft - 5 << "\" x2=\"" << kLeft << "\" y1=\"" << y << "\" y2=\""
            << y << "\" stroke=\"#333\"/>"
            << "<text x=\"" << kLeft - 8 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\">"
            << (log_y_ ? "1e" + format_tick(tick) : format_tick(tick)) << "</text>\n";
    }
    svg << "<text x=\"" << kLeft + plot_width / 2 << "\" y=\"" << kHeight - 14
        << "\" text-anchor=\"middle\">" << escape(x_label_) << "</text>\n"
        << "<text transform=\"translate(18," << kTop + plot_height / 2
        << ") rotate(-90)\" text-anchor=\"middle\">" << escape(y_label_) << "</text>\n";

    // bands, then lines
    for (const auto& band : bands_) {
        svg << "<polygon fill=\"" << band.colour
            << "\" fill-opacity=\"0.25\" stroke=\"none\" points=\"";
        for (size_t i = 0; i < band.x.size(); ++i) {
            svg << px(band.x[i]) << "," << py(band.upper[i]) << " ";
        }
        for (size_t i = band.x.size(); i-- > 0;) {
            svg << px(band.x[i]) << "," << py(band.lower[i]) << " ";
        }
        svg << "\"/>\n";
    }
    for (const auto& series : series_) {
        svg << "<polyline fill=\"none\" stroke=\"" << series.colour << "\" stroke-width=\"1.8\""
            << (series.dashed ? " stroke-dasharray=\"6,4\"" : "") << " points=\"";
        for (size_t i = 0; i < series.x.size() && i < series.y.size(); ++i) {
            if (std::isfinite(series.y[i]) && (!log_y_ || series.y[i] > 0.0)) {
                svg << px(series.x[i]) << "," << py(series.y[i]) << " ";
            }
        }
        svg << "\"/>\n";
        if (series.markers) {
            for (size_t i = 0; i < series.x.size() && i < series.y.size(); ++i) {
                svg << "<circle cx=\"" << px(series.x[i]) << "\" cy=\"" << py(series.y[i])
                    << "\" r=\"3\" fill=\"" << series.colour << "\"/>";
            }
            svg << "\n";
        }
    }

    // legend, top left inside the frame
    double legend_y = kTop + 16;
    const auto entry = [&](const std::string& label, const std::string& colour, bool filled) {
        if (label.empty()) {
            return;
        }
        if (filled) {
            svg << "<rect x=\"" << kLeft + 10 << "\" y=\"" << legend_y - 8 << "\" width=\"18\" "
                << "height=\"10\" fill=\"" << colour << "\" fill-opacity=\"0.25\"/>";
        } else {
            svg << "<line x1=\"" << kLeft + 10 << "\" x2=\"" << kLeft + 28 << "\" y1=\""
                << legend_y - 3 << "\" y2=\"" << legend_y - 3 << "\" stroke=\"" << colour
                << "\" stroke-width=\"2\"/>";
        }
        svg << "<text x=\"" << kLeft + 34 << "\" y=\"" << legend_y << "\">" << escape(label)
            << "</text>\n";
        legend_y += 16;
    };
    for (const auto& band : bands_) {
        entry(band.label, band.colour, true);
    }
    for (const auto& series : series_) {
        entry(series.label, series.colour, false);
    }
    svg << "</svg>\n";
    return svg.str();
}

}  // namespace cs::evaluation
