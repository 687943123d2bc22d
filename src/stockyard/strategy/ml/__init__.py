"""Machine-learned bots: features, labels, models, training as they go, a model registry.

Floor 3 (inside ``strategy``). LightGBM, scikit-learn and skops load on first use.
"""

from stockyard.strategy.ml._bots import MlDirection, MlEnsemble, ModelStatus
from stockyard.strategy.ml._explain import feature_importance, psi, psi_by_feature, shap_values
from stockyard.strategy.ml._features import (
    EMA,
    FEATURE_NAMES,
    RSI,
    SymbolFeatures,
    cross_feature_names,
    feature_matrix,
)
from stockyard.strategy.ml._health import HIT_MIN_JUDGED, model_health_check
from stockyard.strategy.ml._hits import HitRate, HitTracker
from stockyard.strategy.ml._labels import (
    LABEL_KINDS,
    Split,
    direction,
    forward_return,
    label_name,
    make_labels,
    purged_split,
    triple_barrier,
)
from stockyard.strategy.ml._models import (
    MODEL_KINDS,
    FittedModel,
    ModelError,
    fit_model,
    library_versions,
    load_model,
)
from stockyard.strategy.ml._offline import Columns, blocks_from_columns, train_from_columns
from stockyard.strategy.ml._rolling import ActiveModel, RollingTrainer, SymbolHistory
from stockyard.strategy.ml._store import ModelIntegrityError, ModelRecord, ModelRegistry
from stockyard.strategy.ml._training import Block, TrainResult, TrainSpec, train_window

__all__ = [
    "EMA",
    "FEATURE_NAMES",
    "HIT_MIN_JUDGED",
    "LABEL_KINDS",
    "ML_BOTS",
    "MODEL_KINDS",
    "RSI",
    "ActiveModel",
    "Block",
    "Columns",
    "FittedModel",
    "HitRate",
    "HitTracker",
    "MlDirection",
    "MlEnsemble",
    "ModelError",
    "ModelIntegrityError",
    "ModelRecord",
    "ModelRegistry",
    "ModelStatus",
    "RollingTrainer",
    "Split",
    "SymbolFeatures",
    "SymbolHistory",
    "TrainResult",
    "TrainSpec",
    "blocks_from_columns",
    "cross_feature_names",
    "direction",
    "feature_importance",
    "feature_matrix",
    "fit_model",
    "forward_return",
    "label_name",
    "library_versions",
    "load_model",
    "make_labels",
    "model_health_check",
    "psi",
    "psi_by_feature",
    "purged_split",
    "shap_values",
    "train_from_columns",
    "train_window",
    "triple_barrier",
]

ML_BOTS = (MlDirection, MlEnsemble)
