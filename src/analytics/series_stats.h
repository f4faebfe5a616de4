// Robust statistics over short numeric series: the building blocks of anomaly detection.
#pragma once

#include <span>
#include <vector>

namespace vibekit::analytics {

// Median of `values` (NaN when empty). Takes a copy: the input is left as it is.
double Median(std::span<const double> values);
// Median absolute deviation from `median`, unscaled (multiply by 1.4826 for a normal sigma).
double MedianAbsoluteDeviation(std::span<const double> values, double median);
// The q-quantile (0..1) by linear interpolation between order statistics (NaN when empty).
double Quantile(std::span<const double> values, double q);
// Two-sided tail probability of a standard normal at |z|.
double NormalTwoSidedP(double z);
// Inverse of the standard normal CDF (Acklam's rational approximation; |error| < 1.2e-9).
double NormalQuantile(double p);

}  // namespace vibekit::analytics
