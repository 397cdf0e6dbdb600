"""Every string the browser app shows, in one place (Japanese first)."""

APP_TITLE = "カスハラ対応ロールプレイ訓練"
APP_SUBTITLE = "株式会社OverTech「カスタマーハラスメント対策手引書」に基づく教育研修"
AUTH_MESSAGE = "カスハラ対応ロールプレイ訓練にサインインしてください（ユーザー名とパスワード）"

TAB_PRACTICE = "練習"
TAB_REPORT = "報告書・振り返り"
TAB_HISTORY = "わたしの履歴"

PICKER_TITLE = "### 練習する場面を選んでください"
PICKER_HELP = (
    "手引書の「代表的なカスタマーハラスメントの例」から作った7つの場面です。"
    "相手は不当な要求や威圧で圧力をかけてきます。冷静に、毅然と、契約に基づいて対応し、"
    "記録とエスカレーションを意識しましょう。"
)
START_STANDARD = "標準で始める"
START_HARD = "強硬で始める"
RESUME = "中断した練習を再開"

CHAT_LABEL = "相手とのやり取り"
INPUT_LABEL = "あなたの返答"
INPUT_PLACEHOLDER = "相手への返答を入力して Enter で送信（改行は Shift+Enter）"
CHAR_COUNT = "{n} / {limit}文字"
SEND = "送信"
END = "練習を終了する"
END_CONFIRM = (
    "**練習を途中で終了しますか？** 場面は未解決のまま記録され、ここまでの返答で報告書が作られます。"
)
END_YES = "終了する"
END_NO = "練習を続ける"
HINTS = "ヒント（返答ごとの評価）を表示"
LOW_ANXIETY = "数値を隠す（緊張をやわらげるモード）"
BACK_TO_PICKER = "場面選択に戻る"

TURN_STATUS = "ターン {turn}"
TURNS_DONE = "返答 {n} 回"
CLOCK_STATUS = "模擬経過時間 {minutes:.0f}分 / 対応上限 {limit:.0f}分"
CLOCK_OVER = "（20分を超えました。手引書では対応終了を伝える場面です）"
ENDED_STATUS = "練習は終了しました: {outcome}"
FALLBACK_TITLE = "⚠ お知らせ"
WARNING_TITLE = "ご確認ください"
ERROR_TITLE = "エラー"
INFO_TITLE = "お知らせ"
REASON_MORE = "詳しく"

EMPTY_REPLY = "返答を入力してください。"
NOT_SIGNED_IN = "サインインしてください。"
NO_SESSION = "練習が始まっていません。場面を選んでください。"
STORE_BUSY = (
    "データベースに保存できなかったため、この返答は送られていません。少し待ってからもう一度送ってください。"
    "返答は入力欄に残してあります。"
)
SESSION_ENDED = "この練習は終了しています。報告書タブで振り返るか、新しい場面を選んでください。"
ACCESS_DENIED = "このセッションを表示する権限がありません。"
REPLY_TOO_LONG = "返答が長すぎます（{limit}文字まで）。要点を絞って入力してください。"

SCORE_WORDS = {None: "判定不能", 0: "要注意", 1: "見られない", 2: "一部できている", 3: "できている"}
SCORE_WORDS_GENTLE = {
    None: "判定不能",
    0: "見直そう",
    1: "次は意識しよう",
    2: "もう一歩",
    3: "よくできました",
}

REPORT_PICK = "振り返るセッション"
REPORT_SHOW = "表示"
REPORT_EMPTY = "練習を終えると、ここに報告書が表示されます。"
DOWNLOAD_HTML = "HTML でダウンロード"
DOWNLOAD_MD = "Markdown でダウンロード"
PRINT = "印刷 / PDF 保存"
RETRY_TITLE = "### このターンからやり直す"
RETRY_HELP = "ターンを選び、別の返答を書いて続きを練習します。元のやり取りも残り、報告書で比べられます。"
RETRY_TURN = "やり直すターン"
RETRY_REPLY = "新しい返答"
RETRY_GO = "この返答でやり直す"
RETRY_NEED_TURN = "やり直すターンを選んでください。"

DRILL_TITLE = "### 報告ドリル（手引書「報告時の対応状況確認事項」）"
DRILL_HELP = "練習の後、上長・相談窓口への報告を書きます。各項目は記入の有無とやり取りとの整合性を確認し、「記録」の評価に反映します。"
DRILL_SUBMIT = "報告を提出"
DRILL_INSTRUCTION = (
    "> **場面の続き** — あなたが引き継ぎを伝えたあと、上長から次の指示がありました：\n>\n> {text}"
)

HISTORY_TITLE = "### わたしの練習履歴"
HISTORY_REFRESH = "更新"
HISTORY_TREND = "基準ごとの推移（{scenario}・各回の平均点 0〜3）"
HISTORY_SCENARIO = "推移を見る場面"
HISTORY_TREND_FEW = "推移の線は、この場面を2回以上練習すると表示されます。"
HISTORY_ALL = "すべての場面"
HISTORY_BRANCH = "↳ やり直し（ターン{turn}から）"
HISTORY_BEST = "場面ごとの 初回 / 最高 / 最新"
HISTORY_COLUMNS = ["日時", "場面", "ペルソナ", "難易度", "ターン", "結果", "評価"]
BEST_COLUMNS = ["場面", "回数", "初回", "最高", "最新"]

SIGNED_IN_AS = "{name}（{role}・{department}）としてサインイン中"
SIGN_OUT = "サインアウト"

# staff pages, shown by capability
TAB_STUDIO = "ペルソナスタジオ"
TAB_REVIEW = "やり取りの確認"
TAB_AUDIT = "閲覧記録"

STUDIO_PICK = "ペルソナ"
STUDIO_VERSION = "版"
STUDIO_OPEN = "開く"
STUDIO_PICK_FIRST = "ペルソナと版を選んでください。"
STUDIO_FORM = (
    "#### 主な項目（フォーム）\nフォームとYAMLは連動します。要求・戦術の段階・台詞はYAMLで編集します。"
)
STUDIO_YAML = "#### YAML（すべての項目）"
STUDIO_OK = "問題はありません。保存できます。"
STUDIO_PROBLEMS = "{n}件の問題があります（保存できません）:"
STUDIO_NOTE = "この版のメモ（変更点）"
STUDIO_SAVE = "新しい版として保存"
STUDIO_PUBLISH = "この版を公開"
STUDIO_UNPUBLISH = "非公開にする"
STUDIO_SAVED = "✓ {id} v{version} を保存しました（未公開）。公開すると受講者の練習に出ます。"
STUDIO_PUBLISHED = "✓ {id} v{version} を公開しました。受講者には公開中の最新の版が出ます。"
STUDIO_UNPUBLISHED = "{id} v{version} を非公開にしました。"
STUDIO_SAVE_FAILED = "保存できません（{field}）: {problem}"
STUDIO_DRIVE = "試運転（保存前の内容でも試せます。記録はされません）"
STUDIO_DRIVE_CHAT = "試運転のやり取り"
STUDIO_DRIVE_START = "この内容で試運転を始める"
STUDIO_DRIVE_FIRST = "先に「この内容で試運転を始める」を押してください。"
STUDIO_REWIND = "やり直すターン"
STUDIO_REWIND_GO = "このターンからやり直す"
STUDIO_MORE = "版の比較・書き出し・読み込み"
STUDIO_DIFF_A = "比べる版（前）"
STUDIO_DIFF_B = "比べる版（後）"
STUDIO_DIFF = "差分を表示"
STUDIO_NO_DIFF = "（違いはありません）"
STUDIO_EXPORT_YAML = "YAML で書き出す"
STUDIO_EXPORT_CARD = "Character Card V2 で書き出す"
STUDIO_IMPORT = "読み込む（YAML または Character Card V2 の JSON）"
STUDIO_IMPORTED = "✓ 読み込んで {id} v{version} として保存しました（未公開）。"
STUDIO_IMPORT_NOT_TEXT = "UTF-8 のテキストファイルを選んでください。"

REVIEW_TITLE = "### 受講者のセッション"
REVIEW_HELP = "開いたセッションは閲覧記録に残ります。確信度の低い判定には ⚠ が付きます。"
REVIEW_COLUMNS = ["日時", "受講者", "部署", "場面", "評価", "確認", "ID"]
REVIEW_OPEN = "セッションを開く"
REVIEW_PICK = "開くセッション"
REVIEW_REFRESH = "一覧を更新"
REVIEW_LOW = "⚠ 確信度の低い判定 {n} 件"

AUDIT_TITLE = "### 閲覧記録（誰が・誰の・何を・いつ）"
AUDIT_COLUMNS = ["日時", "操作", "した人", "対象の受講者", "対象の部署", "セッション", "内容"]
AUDIT_SHOW = "絞り込む"
AUDIT_NO_USER = "ユーザー「{name}」は見つかりません。ユーザー名で指定してください。"
AUDIT_ACTIONS = {
    "sign_in_failed": "サインインの失敗",
    "view_session": "セッションの閲覧",
    "persona_saved": "ペルソナの保存",
    "persona_published": "ペルソナの公開",
    "persona_unpublished": "ペルソナの非公開",
    "score_override": "採点の修正",
    "assignment": "練習の割り当て",
    "user_added": "アカウントの追加",
    "user_changed": "アカウントの変更",
    "user_disabled": "アカウントの無効化",
    "user_enabled": "アカウントの再有効化",
    "password_reset": "パスワードの再設定",
    "weights_saved": "重みの保存",
    "weights_published": "重みの使用開始",
}
WHO_VIEWED = "#### あなたのセッションを閲覧した人"
WHO_VIEWED_NONE = "まだ誰も閲覧していません。"

PICK_ANY = "公開中のすべてのペルソナから選ぶ"
START_PICKED = "このペルソナで始める"
PICK_ANY_FIRST = "ペルソナを選んでください。"
PICK_ANY_GONE = "このペルソナは公開されていません。一覧を更新してください。"
NO_PERMISSION = "この操作をする権限がありません。"
HISTORY_REVIEWED = "（確認済み）"
OVERRIDE_TITLE = "#### 採点を確認して修正する（機械の採点は残ります。理由は報告書と学習データに載ります）"
OVERRIDE_TURN = "ターン"
OVERRIDE_CRITERION = "基準"
OVERRIDE_SCORE = "正しい点"
OVERRIDE_REASON = "修正の理由"
OVERRIDE_GO = "採点を修正"
OVERRIDE_PICK = "ターン・基準・点を選んでください。"
OVERRIDE_DONE = "✓ ターン{turn}の採点を修正しました。報告書と履歴には「確認済み」として表示されます。"
OVERRIDE_EXPORT = "修正をラベル付きデータ（JSONL）で書き出す"
TAB_ASSIGN = "割り当て"
ASSIGNED_TITLE = "#### 割り当てられた練習"
ASSIGN_TITLE = "### 練習の割り当て（部署または受講者に、期限つきで）"
ASSIGN_PERSONA = "ペルソナ（公開中）"
ASSIGN_DUE = "期限（YYYY-MM-DD）"
ASSIGN_DEPARTMENT = "部署（部署の全員に）"
ASSIGN_USERS = "受講者のユーザー名（カンマ区切り）"
ASSIGN_NOTE = "受講者へのメモ"
ASSIGN_GO = "割り当てる"
ASSIGN_DONE = "✓ 割り当てました。受講者の練習画面の先頭に、期限つきで表示されます。"
ASSIGN_PICK = "ペルソナを選んでください。"
ASSIGN_BAD_DATE = "期限は 2026-12-31 のように年-月-日で入力してください。"
ASSIGN_COLUMNS = ["ペルソナ", "対象", "期限", "完了", "メモ"]
TAB_USERS = "アカウント"
USERS_TITLE = "### アカウント管理（管理者）"
USERS_COLUMNS = ["ユーザー名", "表示名", "役割", "部署", "状態"]
USERS_ADD = "アカウントを追加"
USERS_ADD_GO = "追加する"
USERS_CHANGE = "役割・部署の変更、パスワードの再設定、無効化"
USERS_CHANGE_GO = "役割・部署を変更"
USERS_RESET = "パスワードを再設定"
USERS_DISABLE = "無効にする"
USERS_ENABLE = "有効に戻す"
USERS_CSV = "CSV で一括追加（1行目: username,display_name,role,department[,password,email,employee_id]）"
USERS_ADDED = "✓ {name} を追加しました。"
USERS_PASSWORD = "初期パスワード: `{pw}`（この表示は一度だけです。本人に安全な方法で伝えてください）"
USERS_CHANGED = "✓ {name} の役割・部署を変更しました（役割が変わった時はサインインし直しになります）。"
USERS_RESET_DONE = "✓ {name} のパスワードを再設定しました。"
USERS_DISABLED = "✓ {name} を無効にしました（すべての端末でサインアウトされます）。"
USERS_ENABLED = "✓ {name} を有効に戻しました（新たにサインインしてもらいます）。"
USERS_NOT_FOUND = "ユーザー「{name}」はいません。"
USERS_CSV_NOT_UTF8 = "UTF-8 の CSV を選んでください。"
USERS_CSV_PROBLEMS = "CSV に問題があるため、1件も追加していません。"
USERS_CSV_DONE = "✓ {n} 件を追加しました。"
WEIGHTS_TITLE = "場面ごとの採点の重み"
WEIGHTS_HELP = "総合評価で各基準をどれだけ重く数えるか（0より大きく5以下）。保存すると新しい版になり、「この版を使う」から後の採点に使われます（それまでの採点は、その時の版のまま）。"
WEIGHTS_SAVE = "新しい版として保存"
WEIGHTS_PUBLISH = "この版を使う"
WEIGHTS_SAVED = "✓ 重みの v{version} を保存しました（まだ使われていません）。"
WEIGHTS_PUBLISHED = "✓ 重みの v{version} を、これからの採点に使います。"
WEIGHTS_FILE_ONLY = "（まだ編集された版はありません。ルーブリックのファイルの重みを使っています）"
STUDIO_PASSAGE = "このペルソナが再現する手引書の一文（選ぶと YAML の manual_passage に入ります）"
STUDIO_PASSAGE_YAML = "YAML が読めないため、手引書の一文を入れられません。先に YAML の問題を直してください。"
TAB_DASHBOARD = "ダッシュボード"
DASH_TITLE = "### 人事・総務ダッシュボード（部署・人・場面・基準・期間で絞り込み）"
DASH_VERSION = "ルーブリックと判定器の版（版の違う採点は混ぜません）"
DASH_SHOW = "表示"
DASH_EMPTY = "この条件の採点はありません。"
DASH_HEADLINE = (
    "**受講者** {trainees} 人　**セッション** {sessions} 件　**譲歩のあったセッション** {conceded} 件（{share}）　"
    "**総合評価の中央値** {median}　**割り当ての完了** {completion}\n\n<small>表示中の版: {version}</small>"
)
DASH_COHORT = ["受講者", "部署", "セッション", "平均（%）", "初回（%）", "最高（%）", "最新（%）", "譲歩のあったセッション",
               "いちばん弱い基準", "割り当ての完了"]  # fmt: skip
DASH_COHORT_TITLE = (
    "#### 受講者ごと（{total} 人中 {shown} 人を表示）\n<small>初回・最高・最新は絞り込みの範囲で。"
    "ほかの人は並べ替えか名前で探すか、CSV で。</small>"
)
DASH_DEPTS_TITLE = "#### 部署ごとの譲歩（譲歩のあったセッションが多い順）"
DASH_DEPTS = ["部署", "セッション", "譲歩のあったセッション", "譲歩率", "平均の総合評価（%）"]
DASH_EXPORT = "この条件で書き出す"
DASH_TREND_TITLE = "週ごとの達成度（%）: 基準を選ぶと部署ごとの線になります"
DASH_TREND_LABEL = "週ごとの達成度の推移"
DASH_TREND_X = "週（月曜はじまり・月-日）"
DASH_PERSON = "受講者（一覧から）"
DASH_SESSION = "その人のセッション"
