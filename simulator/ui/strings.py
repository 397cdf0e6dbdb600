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
