import Foundation

/// One line of a Prometheus text exposition: a name, its labels and a value.
package struct MetricSample: Sendable, Equatable {
    package var name: String
    package var labels: [String: String]
    package var value: Double
}

/// The samples a supervisor's `/metrics` served, for `status` and for scripts.
package struct MetricSamples: Sendable {
    /// Every sample, in the order served.
    package var samples: [MetricSample]

    /// Reads the text exposition format (version 0.0.4); comments and lines it cannot read are
    /// skipped.
    package init(parsing text: String) {
        samples = text.split(separator: "\n").compactMap(Self.sample)
    }

    /// The sum of the samples named `name` whose labels include `labels` (0 when none).
    package func sum(_ name: String, _ labels: [String: String] = [:]) -> Double {
        matching(name, labels).reduce(0) { $0 + $1.value }
    }

    /// The samples named `name` whose labels include `labels`.
    package func matching(_ name: String, _ labels: [String: String] = [:]) -> [MetricSample] {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
    }

    /// The `q` quantile (0...1) of histogram `name` (its `_bucket` samples whose labels include
    /// `labels`, summed over the rest), interpolated within its bucket as PromQL's
    /// `histogram_quantile` does; nil when it holds no observation.
    package func quantile(_ q: Double, histogram name: String, _ labels: [String: String] = [:]) -> Double? {
        Self.quantile(q, cumulative: buckets(name, labels).sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    /// Histogram `name`'s cumulative counts by upper bound (`le`), summed over the samples
    /// whose labels include `labels`.
    func buckets(_ name: String, _ labels: [String: String]) -> [Double: Double] {
        var buckets: [Double: Double] = [:]
        for sample in matching("\(name)_bucket", labels) {
            guard let le = sample.labels["le"].flatMap({ $0 == "+Inf" ? Double.infinity : Double($0) }) else { continue }
            buckets[le, default: 0] += sample.value
        }
        return buckets
    }

    /// `histogram_quantile` over cumulative buckets (upper bound, count), sorted by bound.
    static func quantile(_ q: Double, cumulative buckets: [(bound: Double, count: Double)]) -> Double? {
        guard let total = buckets.last?.count, total > 0 else { return nil }
        let rank = q * total
        var (lower, below) = (0.0, 0.0)
        for (bound, count) in buckets {
            if count >= rank {
                // The +Inf bucket has no upper edge: answer the highest finite bound.
                if bound.isInfinite { return lower }
                let inBucket = count - below
                return inBucket > 0 ? lower + (bound - lower) * (rank - below) / inBucket : bound
            }
            (lower, below) = (bound, count)
        }
        return lower
    }

    /// `name{a="x",b="y"} value` (labels optional; escaped quotes and backslashes in values).
    private static func sample(_ line: Substring) -> MetricSample? {
        guard let first = line.first, first != "#" else { return nil }
        var labels: [String: String] = [:]
        let name: Substring
        var rest: Substring
        if let brace = line.firstIndex(of: "{") {
            name = line[..<brace]
            rest = line[line.index(after: brace)...]
            while let eq = rest.firstIndex(of: "="), rest[rest.index(after: eq)...].first == "\"" {
                let key = rest[..<eq].trimmingCharacters(in: CharacterSet(charactersIn: ", "))
                var value = ""
                var index = rest.index(eq, offsetBy: 2)
                while index < rest.endIndex, rest[index] != "\"" {
                    if rest[index] == "\\", rest.index(after: index) < rest.endIndex {
                        index = rest.index(after: index)
                        value.append(rest[index] == "n" ? "\n" : rest[index])
                    } else {
                        value.append(rest[index])
                    }
                    index = rest.index(after: index)
                }
                guard index < rest.endIndex else { return nil }
                labels[key] = value
                rest = rest[rest.index(after: index)...]
            }
            guard let close = rest.firstIndex(of: "}") else { return nil }
            rest = rest[rest.index(after: close)...]
        } else {
            guard let space = line.firstIndex(of: " ") else { return nil }
            name = line[..<space]
            rest = line[space...]
        }
        let fields = rest.split(separator: " ")
        guard let text = fields.first else { return nil }
        let value: Double? =
            switch text {
            case "+Inf": .infinity
            case "-Inf": -.infinity
            case "NaN": .nan
            default: Double(text)
            }
        guard let value else { return nil }
        return MetricSample(name: String(name), labels: labels, value: value)
    }
}
