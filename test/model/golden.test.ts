import { Engine } from "../../src/engine/Engine.js";
import { goldenSuite } from "../support/goldenSuite.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER, GOLDEN_PATH, SKIP_SHARED } from "../support/paths.js";

/** stories260K (the bundled model, llama2.c .bin) against ../shared/golden/stories260K.json. */
goldenSuite("stories260K .bin", GOLDEN_PATH, SKIP_SHARED, () => Engine.load(BUNDLED_MODEL, BUNDLED_TOKENIZER, 2));
