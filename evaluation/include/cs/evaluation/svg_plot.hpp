// A small SVG line plot for the evaluation report: labelled axes with ticks, lines,
// shaded bands between two curves, and a legend. Enough for calibration curves,
// score distributions and spreads against a condition; nothing more.
#pragma once

#include <string>
#include <vector>

namespace cs::evaluation {

struct Series {
    std::string label;
    std::vector<double> x;
    std::vector<double> y;
    std::string colour = "#1f77b4";
    bool dashed = false;
    bool markers = false;
};

struct Band {
    std::string label;
    std::vector<double> x;
    std::vector<double> lower;
    std::vector<double> upper;
    std::string colour = "#1f77b4";
};

class SvgPlot {
  public:
    SvgPlot(std::string title, std::string x_label, std::string y_label);

    void add(Series series) { series_.push_back(std::move(series)); }
    void add(Band band) { bands_.push_back(std::move(band)); }
    // Fixes an axis range instead of fitting the data.
    void x_range(double low, double high);
    void y_range(double low, double high);
    void log_y(bool on) { log_y_ = on; }

    // The complete SVG document (640 x 420 pixels, scalable).
    std::string render() const;

  private:
    std::string title_;
    std::string x_label_;
    std::string y_label_;
    std::vector<Series> series_;
    std::vector<Band> bands_;
    bool fixed_x_ = false;
    bool fixed_y_ = false;
    bool log_y_ = false;
    double x_low_ = 0.0;
    double x_high_ = 1.0;
    double y_low_ = 0.0;
    double y_high_ = 1.0;
};

}  // namespace cs::evaluation
