/* SPDX-License-Identifier: MIT */
#pragma once

/* Names on the bus: fixed by DESIGN.md, shared by the daemon and kneectl. */

#define KNEED_BUS_NAME "org.kneed.Kneed1"
#define KNEED_MANAGER_PATH "/org/kneed/Kneed1"
#define KNEED_DEVICE_PATH_PREFIX "/org/kneed/Kneed1/device"
#define KNEED_SESSION_PATH_PREFIX "/org/kneed/Kneed1/session"

#define KNEED_MANAGER_INTERFACE "org.kneed.Kneed1.Manager"
#define KNEED_DEVICE_INTERFACE "org.kneed.Kneed1.Device"
#define KNEED_SESSION_INTERFACE "org.kneed.Kneed1.Session"

#define KNEED_ERROR_PREFIX "org.kneed.Kneed1.Error."
#define KNEED_ERROR_DEVICE_BUSY KNEED_ERROR_PREFIX "DeviceBusy"
#define KNEED_ERROR_NO_SUCH_DEVICE KNEED_ERROR_PREFIX "NoSuchDevice"
#define KNEED_ERROR_NO_SUCH_SESSION KNEED_ERROR_PREFIX "NoSuchSession"
#define KNEED_ERROR_SESSION_FINISHED KNEED_ERROR_PREFIX "SessionFinished"
#define KNEED_ERROR_UNKNOWN_ROUTINE KNEED_ERROR_PREFIX "UnknownRoutine"
#define KNEED_ERROR_UNSUPPORTED KNEED_ERROR_PREFIX "Unsupported"
#define KNEED_ERROR_DEVICE_FAULTED KNEED_ERROR_PREFIX "DeviceFaulted"
#define KNEED_ERROR_NOT_AUTHORIZED KNEED_ERROR_PREFIX "NotAuthorized"
#define KNEED_ERROR_POLICY_INVALID KNEED_ERROR_PREFIX "PolicyInvalid"
#define KNEED_ERROR_SCREENING_REQUIRED KNEED_ERROR_PREFIX "ScreeningRequired"
#define KNEED_ERROR_CONTRAINDICATED KNEED_ERROR_PREFIX "Contraindicated"
#define KNEED_ERROR_SESSION_LIMIT KNEED_ERROR_PREFIX "SessionLimit"
#define KNEED_ERROR_COOLING_DOWN KNEED_ERROR_PREFIX "CoolingDown"
#define KNEED_ERROR_LOCKED_OUT KNEED_ERROR_PREFIX "LockedOut"
#define KNEED_ERROR_FORBIDDEN_ZONE KNEED_ERROR_PREFIX "ForbiddenZone"
#define KNEED_ERROR_LEDGER_UNAVAILABLE KNEED_ERROR_PREFIX "LedgerUnavailable"
