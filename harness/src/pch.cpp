// Owner of the shared precompiled header (see workbook/pch.hpp).
