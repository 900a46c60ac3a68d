/* An nvinfer1::ILogger for TensorRT-RTX, which Python's ctypes cannot write: getInterfaceInfo returns a
 * struct by value. TensorRT-RTX's ILogger is a versioned interface: getAPILanguage, getInterfaceInfo
 * ({"ILogger", 1, 0}), the two destructor slots, then log(severity, message). Each message goes to `sink`. */
#include <stdint.h>

typedef struct { const char* kind; int32_t major; int32_t minor; } InterfaceInfo;
typedef void (*Sink)(int32_t severity, const char* message);
typedef struct { void* const* vtable; Sink sink; } Logger;

static int32_t api_language(const Logger* self) { (void)self; return 0; /* APILanguage::kCPP */ }
static InterfaceInfo interface_info(const Logger* self) { (void)self; InterfaceInfo info = {"ILogger", 1, 0}; return info; }
static void destroy(Logger* self) { (void)self; }
static void log_message(Logger* self, int32_t severity, const char* message) { self->sink(severity, message); }

static void* const vtable[5] = {(void*)api_language, (void*)interface_info, (void*)destroy, (void*)destroy, (void*)log_message};

void logger_init(Logger* self, Sink sink) { self->vtable = vtable; self->sink = sink; }
