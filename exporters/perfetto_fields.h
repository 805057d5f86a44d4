// Internal: the Perfetto field numbers the writer and reader use (from
// ../shared/perfetto-format.md, Part B; proto/perfetto_trace.proto declares the same).

#ifndef SCOPETRACE_EXPORTERS_PERFETTO_FIELDS_H_
#define SCOPETRACE_EXPORTERS_PERFETTO_FIELDS_H_

#include <cstdint>

namespace scopetrace::exporters::pf {

// Trace
constexpr uint32_t kTracePacket = 1;

// TracePacket
constexpr uint32_t kClockSnapshot = 6;
constexpr uint32_t kTimestamp = 8;
constexpr uint32_t kSequenceId = 10;  // trusted_packet_sequence_id
constexpr uint32_t kTrackEvent = 11;
constexpr uint32_t kInternedData = 12;
constexpr uint32_t kSequenceFlags = 13;
constexpr uint32_t kIncrementalStateCleared = 41;
constexpr uint32_t kPreviousPacketDropped = 42;
constexpr uint32_t kTimestampClockId = 58;
constexpr uint32_t kTracePacketDefaults = 59;
constexpr uint32_t kTrackDescriptor = 60;
constexpr uint32_t kFirstPacketOnSequence = 87;
constexpr uint32_t kScopetraceMetadata = 61731;  // ours, see proto/perfetto_trace.proto

constexpr uint32_t kSeqIncrementalStateCleared = 1;
constexpr uint32_t kSeqNeedsIncrementalState = 2;

// TracePacketDefaults
constexpr uint32_t kDefaultsClockId = 58;
constexpr uint32_t kDefaultsTrackEvent = 11;
// TrackEventDefaults
constexpr uint32_t kDefaultsTrackUuid = 11;

// ClockSnapshot / ClockSnapshot.Clock
constexpr uint32_t kSnapshotClocks = 1;
constexpr uint32_t kSnapshotPrimaryClock = 2;
constexpr uint32_t kClockId = 1;
constexpr uint32_t kClockTimestamp = 2;
constexpr uint32_t kClockIsIncremental = 3;
constexpr uint32_t kClockUnitMultiplier = 4;
constexpr uint32_t kBuiltinClockBoottime = 6;
// The sequence-scoped incremental clock our writer declares (64..127 are per sequence).
constexpr uint32_t kIncrementalClock = 64;

// TrackDescriptor
constexpr uint32_t kTdUuid = 1;
constexpr uint32_t kTdName = 2;
constexpr uint32_t kTdProcess = 3;
constexpr uint32_t kTdThread = 4;
constexpr uint32_t kTdParentUuid = 5;
constexpr uint32_t kTdCounter = 8;
constexpr uint32_t kTdStaticName = 10;
constexpr uint32_t kTdAtraceName = 13;
constexpr uint32_t kTdScopetraceTrack = 61731;  // ours
// ProcessDescriptor
constexpr uint32_t kPdPid = 1;
constexpr uint32_t kPdProcessName = 6;
// ThreadDescriptor
constexpr uint32_t kThdPid = 1;
constexpr uint32_t kThdTid = 2;
constexpr uint32_t kThdThreadName = 5;
// ScopetraceTrack (ours)
constexpr uint32_t kStKind = 1;
constexpr uint32_t kStPid = 2;
constexpr uint32_t kStTid = 3;
constexpr uint32_t kStName = 4;
constexpr uint32_t kStSortIndex = 5;
constexpr uint32_t kStIsDevice = 6;
constexpr uint32_t kStLane = 7;
enum ScopetraceTrackKind : uint32_t {
  kStKindProcess = 0,
  kStKindThread = 1,
  kStKindDeviceStream = 2,
  kStKindCounter = 3
};

// TrackEvent
constexpr uint32_t kTeCategoryIids = 3;
constexpr uint32_t kTeDebugAnnotations = 4;
constexpr uint32_t kTeType = 9;
constexpr uint32_t kTeNameIid = 10;
constexpr uint32_t kTeTrackUuid = 11;
constexpr uint32_t kTeCategories = 22;
constexpr uint32_t kTeName = 23;
constexpr uint32_t kTeCounterValue = 30;
constexpr uint32_t kTeFlowIdsOld = 36;
constexpr uint32_t kTeTerminatingFlowIdsOld = 42;
constexpr uint32_t kTeDoubleCounterValue = 44;
constexpr uint32_t kTeFlowIds = 47;
constexpr uint32_t kTeTerminatingFlowIds = 48;
constexpr uint32_t kTeCorrelationId = 52;
constexpr uint32_t kTypeSliceBegin = 1;
constexpr uint32_t kTypeSliceEnd = 2;
constexpr uint32_t kTypeInstant = 3;
constexpr uint32_t kTypeCounter = 4;

// DebugAnnotation
constexpr uint32_t kDaNameIid = 1;
constexpr uint32_t kDaBool = 2;
constexpr uint32_t kDaUint = 3;
constexpr uint32_t kDaInt = 4;
constexpr uint32_t kDaDouble = 5;
constexpr uint32_t kDaString = 6;
constexpr uint32_t kDaPointer = 7;
constexpr uint32_t kDaLegacyJson = 9;
constexpr uint32_t kDaName = 10;
constexpr uint32_t kDaDictEntries = 11;
constexpr uint32_t kDaArrayValues = 12;
constexpr uint32_t kDaStringIid = 17;

// InternedData and its entries ({iid = 1, name/str = 2})
constexpr uint32_t kIdEventCategories = 1;
constexpr uint32_t kIdEventNames = 2;
constexpr uint32_t kIdDebugAnnotationNames = 3;
constexpr uint32_t kIdDebugAnnotationStrings = 29;
constexpr uint32_t kInternedIid = 1;
constexpr uint32_t kInternedName = 2;

// The arg key the correlation id travels under (trace.h conventions).
constexpr char kCorrelationIdArg[] = "correlation_id";

}  // namespace scopetrace::exporters::pf

#endif  // SCOPETRACE_EXPORTERS_PERFETTO_FIELDS_H_
