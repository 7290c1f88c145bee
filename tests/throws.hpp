// CHECK_THROWS_TYPED(expression, Type, matcher): throws Type, and what() matches.
#pragma once

#include <catch2/catch.hpp>

#define CHECK_THROWS_TYPED(expression, Type, matcher) \
    do {                                              \
        CHECK_THROWS_AS(expression, Type);            \
        CHECK_THROWS_WITH(expression, matcher);       \
    } while (false)
