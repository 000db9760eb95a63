import Foundation
import WarrenCore

/// What `status` shows: each queue as the broker and the supervisor's metrics tell it.
///
/// Broker figures (messages, consumers, dead letters, unrouted, waiting) are always there when
/// the broker answers; supervisor figures (children, rates, lag) only while a supervisor serves
/// its metrics at `metrics.listen` (nil otherwise).
package struct StatusReport: Codable, Sendable, Equatable {
    /// One work queue.
    package struct Queue: Codable, Sendable, Equatable {
        package var name: String
        /// Messages ready in the queue (not yet delivered, or given back).
        package var messages: Int?
        /// Consumers the broker counts on it: one per child that is consuming.
        package var consumers: Int?
        /// Child processes the supervisor runs for it, and how many hold a live consumer.
        package var children: Int?
        package var childrenReady: Int?
        /// Paused by remote control (`cancel_consumer`, `queue pause`): no children until resumed.
        package var paused: Bool?
        /// Deliveries taken up per second (handlers started), over the last interval.
        package var deliveredPerSecond: Double?
        /// Deliveries acknowledged per second (tasks that ended in any way but `requeued`:
        /// succeeded, retried or dead-lettered), over the last interval.
        package var ackedPerSecond: Double?
        /// Tasks finished since the supervisor started, and how many succeeded.
        package var tasksTotal: Int?
        package var succeededTotal: Int?
        /// Retries scheduled and messages dead-lettered since the supervisor started.
        package var retriesTotal: Int?
        package var deadLettersTotal: Int?
        /// Queue lag (publish, or `eta`, to handler start) in seconds: over the last interval
        /// when tasks started in it, else since the supervisor started.
        package var lagP50Seconds: Double?
        package var lagP99Seconds: Double?
    }

    /// A queue outside the work queues, by name and depth.
    package struct Holding: Codable, Sendable, Equatable {
        package var queue: String
        package var messages: Int?
    }

    package var time: Date
    /// Whether the broker answered, and its address (password masked).
    package var broker: String
    package var brokerReachable: Bool
    /// Where the supervisor's metrics were read, and whether they were.
    package var metricsURL: String?
    package var supervisorReachable: Bool
    package var queues: [Queue]
    package var deadLetters: Holding
    package var unrouted: Holding
    /// Messages waiting in the broker for their retry delay or countdown (every wait queue).
    package var waiting: Int?
    /// The supervisor leading the periodic schedules, as the record it writes on the broker
    /// names it (at every fire and every minute), and when it last wrote; nil without
    /// schedules, or before any leader wrote.
    package var scheduleLeader: String?
    package var scheduleLeaderWroteAt: Date?
}

extension StatusReport {
    /// Puts the report together from what was read. `previous` (an earlier scrape, `interval`
    /// seconds before) gives the rates and the recent lag.
    package static func make(
        configuration: WarrenConfiguration, time: Date, counts: [String: QueueCounts]?, waiting: Int?,
        samples: MetricSamples?, previous: MetricSamples?, interval: Double?
    ) -> StatusReport {
        let metricsURL = configuration.metrics.enabled ? "http://\(configuration.metrics.listen)/metrics" : nil
        let queues = configuration.queues.map { queue -> Queue in
            var q = Queue(name: queue.name, messages: counts?[queue.name]?.messages, consumers: counts?[queue.name]?.consumers)
            guard let samples else { return q }
            let labels = ["queue": queue.name]
            q.children = Int(samples.sum("warren_children", labels))
            q.childrenReady = Int(samples.sum("warren_children_ready", labels))
            q.paused = samples.sum("warren_queue_paused", labels) > 0
            let total = samples.sum("warren_tasks_total", labels)
            q.tasksTotal = Int(total)
            q.succeededTotal = Int(samples.sum("warren_tasks_total", ["queue": queue.name, "outcome": "succeeded"]))
            q.retriesTotal = Int(samples.sum("warren_retries_total", labels))
            q.deadLettersTotal = Int(samples.sum("warren_dead_letters_total", labels))
            let lag = "warren_queue_lag_seconds"
            if let previous, let interval, interval > 0 {
                func rate(_ name: String, _ labels: [String: String]) -> Double {
                    max(0, samples.sum(name, labels) - previous.sum(name, labels)) / interval
                }
                q.deliveredPerSecond = rate("warren_tasks_started_total", labels)
                q.ackedPerSecond = max(
                    0,
                    rate("warren_tasks_total", labels)
                        - rate("warren_tasks_total", ["queue": queue.name, "outcome": TaskOutcome.requeued.rawValue]))
                let recent = samples.histogramDelta(lag, labels, since: previous)
                if let p50 = MetricSamples.quantile(0.5, cumulative: recent) {
                    q.lagP50Seconds = p50
                    q.lagP99Seconds = MetricSamples.quantile(0.99, cumulative: recent)
                    return q
                }
            }
            q.lagP50Seconds = samples.quantile(0.5, histogram: lag, labels)
            q.lagP99Seconds = samples.quantile(0.99, histogram: lag, labels)
            return q
        }
        return StatusReport(
            time: time, broker: "\(configuration.broker)", brokerReachable: counts != nil, metricsURL: metricsURL,
            supervisorReachable: samples != nil, queues: queues,
            deadLetters: Holding(queue: configuration.deadLetterQueue, messages: counts?[configuration.deadLetterQueue]?.messages),
            unrouted: Holding(queue: configuration.unroutedQueue, messages: counts?[configuration.unroutedQueue]?.messages),
            waiting: waiting)
    }
}

extension MetricSamples {
    /// Cumulative buckets (bound, count) of histogram `name` with `labels`, minus those of
    /// `earlier`: the observations made between the two scrapes.
    func histogramDelta(_ name: String, _ labels: [String: String], since earlier: MetricSamples) -> [(bound: Double, count: Double)] {
        let now = buckets(name, labels), before = earlier.buckets(name, labels)
        return now.sorted { $0.key < $1.key }.map { ($0.key, max(0, $0.value - (before[$0.key] ?? 0))) }
    }
}
